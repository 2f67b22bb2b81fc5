"""`mttx serve` against real Flight SQL clients: ADBC's Flight SQL driver (the one pandas, polars
and Superset use) and pyarrow.flight for the calls ADBC does not expose (CancelFlightInfo).

Usage: check_serve.py MTTX_BINARY WORK_DIR [--dashboard assets/grafana/mttx-service-desk.json]

It makes two generated exports (different seeds, the same ticket ids), loads the first into a store,
and runs servers on loopback with port 0:
- the main one: tables, every KPI view against `mttx kpi`, table functions, a prepared statement,
  the Grafana dashboard's panels, 8 clients x 50 queries at once, and a `--into` load while
  queries run;
- one with a token and TLS (a self-signed certificate made here): refusals and token rotation;
- one with tight limits: time, rows, one query at a time, cancellation.
Prints one line per check and exits 1 on the first failure.
"""

import argparse
import concurrent.futures
import datetime
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import atexit

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flight_sql
import pyarrow.flight as flight


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def ok(message):
    print(f"ok: {message}", flush=True)


class Server:
    """`mttx serve` in the background; its first log line gives the address."""

    def __init__(self, mttx, store, *flags):
        self.process = subprocess.Popen(
            [mttx, "serve", "--input", store, "--bind", "127.0.0.1:0", *flags],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        atexit.register(self.process.kill)
        self.lines = []
        line = self.process.stderr.readline()
        check(line.startswith("mttx serve: listening on "), f"the server did not start: {line!r}")
        self.lines.append(line)
        self.uri = re.search(r"listening on (\S+)", line).group(1)
        self.port = int(self.uri.rsplit(":", 1)[1])
        self.period = re.search(r"KPI views for (\d{4}-\d{2})", line).group(1)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.process.stderr:
            self.lines.append(line)

    def connect(self, **kwargs):
        return flight_sql.connect(self.uri, **kwargs)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        check(code == 0, f"SIGTERM: the server exited with {code}")
        time.sleep(0.2)
        check(any("stopped" in line for line in self.lines), "the server did not log that it stopped")


def rows_of(cursor):
    return cursor.fetch_arrow_table().to_pylist()


def query(connection, sql, parameters=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return rows_of(cursor)


def as_json_value(value):
    """A served value as `mttx kpi --format json` writes it: timestamps as RFC 3339 UTC."""
    if isinstance(value, datetime.datetime):
        value = value.astimezone(datetime.timezone.utc)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond // 1000:03d}" if value.microsecond % 1000 == 0 else f".{value.microsecond:06d}"
        return text + "Z"
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def json_rows(rows):
    """Served rows as `mttx kpi --format json` writes them."""
    return [{k: as_json_value(v) for k, v in row.items()} for row in rows]


def same_value(a, b):
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    return a == b


def same_rows(served, expected):
    """Equal as multisets of rows, floats to 1e-12 relative (parallel sums may add in another order)."""
    if len(served) != len(expected):
        return False
    served = json_rows(served)
    key = lambda row: json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in sorted(row.items())}, default=str)
    for a, b in zip(sorted(served, key=key), sorted(expected, key=key)):
        if set(a) != set(b) or not all(same_value(a[k], b[k]) for k in a):
            return False
    return True


def mttx_kpis(mttx, store, *flags):
    out = subprocess.run([mttx, "kpi", "--input", store, "--format", "json", *flags], check=True, capture_output=True, text=True).stdout
    return {k["id"]: k["rows"] for k in json.loads(out)["kpis"]}


def expect_error(connection, sql, pattern, what):
    try:
        query(connection, sql)
    except Exception as error:  # noqa: BLE001 - any client error is what is expected
        check(re.search(pattern, str(error)), f"{what}: the error does not say {pattern!r}: {error}")
        return str(error)
    check(False, f"{what}: {sql!r} was not refused")


def still_answers(server, what, **kwargs):
    with server.connect(**kwargs) as connection:
        check(query(connection, "SELECT 1 AS one") == [{"one": 1}], f"after {what} the server no longer answers")


# --- the main server -------------------------------------------------------------------------


def check_tables_and_kpis(mttx, server, store):
    with server.connect() as connection:
        objects = connection.adbc_get_objects(depth="tables").read_all().to_pylist()
        tables = {t["table_name"]: t["table_type"] for c in objects for s in c["catalog_db_schemas"] for t in s["db_schema_tables"]}
        for table in ["incidents", "problems", "changes", "cis", "events", "outages", "kpi_mttr", "kpi_sla_breach"]:
            check(table in tables, f"GetTables lists no {table}: {sorted(tables)}")
        check(tables["incidents"] == "TABLE" and tables["kpi_mttr"] == "VIEW", f"table types: {tables['incidents']}, {tables['kpi_mttr']}")
        info = connection.adbc_get_info()
        check(info.get("vendor_name") == "mttx", f"GetSqlInfo: {info}")
        ok(f"GetTables lists {len(tables)} tables and views; GetSqlInfo names {info['vendor_name']} {info['vendor_version']}")

        count = query(connection, "SELECT count(*) AS n FROM incidents")[0]["n"]
        expected = subprocess.run([mttx, "sql", "--input", store, "--format", "json", "SELECT count(*) AS n FROM incidents"], check=True, capture_output=True, text=True).stdout
        check(count == json.loads(expected)[0]["n"], f"incidents: {count} rows served, mttx sql says {expected}")
        ok(f"incidents: {count} rows, as `mttx sql` counts them")

        kpis = mttx_kpis(mttx, store, "--period", server.period)
        for kpi, expected_rows in kpis.items():
            served = query(connection, f"SELECT * FROM kpi_{kpi}")
            check(same_rows(served, expected_rows), f"kpi_{kpi} differs from `mttx kpi --period {server.period}`:\n{served[:3]}\n{expected_rows[:3]}")
        ok(f"all {len(kpis)} KPI views equal `mttx kpi --period {server.period} --format json`")

        window = mttx_kpis(mttx, store, "--from", "2026-06", "--to", "2026-08", "--by", "service", "--only", "mttr", "--only", "sla_breach")
        for kpi, expected_rows in window.items():
            served = query(connection, f"SELECT * FROM kpi_{kpi}('2026-06', '2026-08', 'service')")
            check(same_rows(served, expected_rows), f"kpi_{kpi}('2026-06', '2026-08', 'service') differs from `mttx kpi --by service`")
        served = query(connection, "SELECT * FROM kpi_mttr('2026-06-15T10:00:00Z', '2026-08-31')")
        check(same_rows(served, mttx_kpis(mttx, store, "--from", "2026-06", "--to", "2026-08", "--only", "mttr")["mttr"]), "kpi_mttr with timestamps")
        expect_error(connection, "SELECT * FROM kpi_mttr('June', '2026-08')", r"not a month", "a table function's bad month")
        ok("table functions kpi_mttr and kpi_sla_breach over 2026-06..08 by service equal `mttx kpi --from --to --by`")

        direct = query(connection, "SELECT count(*) AS n FROM incidents WHERE priority = 2 AND service <> 'it''s ?'")[0]["n"]
        bound = query(connection, "SELECT count(*) AS n FROM incidents WHERE priority = ? AND service <> 'it''s ?'", (2,))[0]["n"]
        check(bound == direct and direct > 0, f"a prepared statement with a parameter: {bound} rows, {direct} without one")
        with connection.cursor() as cursor:
            cursor.adbc_prepare("SELECT count(*) AS n FROM incidents WHERE priority = ?")
            counts = []
            for priority in [1, 3]:
                cursor.execute("SELECT count(*) AS n FROM incidents WHERE priority = ?", (priority,))
                counts.append(rows_of(cursor)[0]["n"])
        expected = [query(connection, f"SELECT count(*) AS n FROM incidents WHERE priority = {p}")[0]["n"] for p in [1, 3]]
        check(counts == expected, f"one prepared statement, two bindings: {counts}, expected {expected}")
        ok(f"prepared statements: priority = ? bound to 2 gives {bound}, reused for 1 and 3 gives {counts}")


def check_dashboard(server, dashboard):
    panels = json.loads(Path(dashboard).read_text())["panels"]
    # Grafana's FlightSQL data source expands its time macros to quoted RFC 3339 literals.
    macros = {"$__timeFrom": "'2025-11-01T00:00:00Z'", "$__timeTo": "'2026-10-31T23:59:59Z'"}
    with server.connect() as connection:
        for panel in panels:
            for target in panel["targets"]:
                sql = target["queryText"]
                for macro, literal in macros.items():
                    sql = sql.replace(macro, literal)
                rows = query(connection, sql)
                check(rows, f"the dashboard panel {panel['title']!r} returned no rows: {sql}")
    ok(f"every query of the {len(panels)} dashboard panels runs and returns rows")


def check_under_load(server):
    with server.connect() as connection:
        by_priority = {p: query(connection, f"SELECT count(*) AS n FROM incidents WHERE priority = {p}")[0]["n"] for p in range(1, 6)}
        mttr = json_rows(query(connection, "SELECT * FROM kpi_mttr"))

    def client(number):
        with server.connect() as connection:
            for i in range(50):
                if i % 5 == 0:
                    check(same_rows(query(connection, "SELECT * FROM kpi_mttr"), mttr), f"client {number}: kpi_mttr changed under load")
                else:
                    p = (number + i) % 5 + 1
                    n = query(connection, "SELECT count(*) AS n FROM incidents WHERE priority = ?", (p,))[0]["n"]
                    check(n == by_priority[p], f"client {number}: priority {p} counted {n}, not {by_priority[p]}")
        return number

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(client, range(8)))
    elapsed = time.monotonic() - started
    ok(f"8 clients x 50 queries at once, every answer correct, in {elapsed:.1f} s; the server's peak RSS so far {peak_rss_mib(server):.0f} MiB")


def peak_rss_mib(server):
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def data_files(store):
    return {str(p.relative_to(store)) for p in Path(store, "data").rglob("*") if p.is_file()}


def check_during_a_load(mttx, server, store, second_export):
    sql = "SELECT * FROM kpi_mttr('2025-11', '2026-10')"
    with server.connect() as connection:
        before = json_rows(query(connection, sql))
    old_files = data_files(store)
    answers, stop = [], threading.Event()

    def ask():
        with server.connect() as connection:
            while not stop.is_set():
                answers.append(query(connection, sql))

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    load = subprocess.run([mttx, "load", "--input", second_export, "--into", store], capture_output=True, text=True)
    check(load.returncode == 0, f"the load during queries failed: {load.stderr}")
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join()
    with server.connect() as connection:
        after = query(connection, sql)
    check(not same_rows(after, before), "the second export did not change kpi_mttr, so the test shows nothing")
    expected_after = mttx_kpis(mttx, store, "--from", "2025-11", "--to", "2026-10", "--only", "mttr")["mttr"]
    check(same_rows(after, expected_after), "after the load the server does not answer what `mttx kpi` does on the new store")
    mixed = [a for a in answers if not (same_rows(a, before) or same_rows(a, expected_after))]
    check(not mixed, f"{len(mixed)} of {len(answers)} answers during the load were neither the old store's nor the new one's")
    olds = sum(1 for a in answers if same_rows(a, before))
    listed = set(json_files(store))
    deadline = time.monotonic() + 15
    left = old_files - listed
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = {f for f in left if Path(store, f).exists()}
    check(not left, f"files the new manifest no longer lists were not deleted once the old generation's queries ended: {sorted(left)[:3]}")
    ok(f"a --into load while 3 clients queried: {len(answers)} answers, {olds} from the old store and {len(answers) - olds} from the new, none mixed; the old files were deleted")


def json_files(store):
    manifest = json.loads(Path(store, "manifest.json").read_text())
    return [f["path"] for t in manifest["tables"].values() for f in t["files"]]


# --- the server with a token and TLS -------------------------------------------------------------


def check_token_and_tls(mttx, store, work):
    cert, key, token_file = work / "cert.pem", work / "key.pem", work / "token"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    token_file.write_text("first-token\n")
    server = Server(mttx, store, "--token-file", str(token_file), "--tls-cert", str(cert), "--tls-key", str(key))
    check(server.uri.startswith("grpc+tls://"), f"with --tls-cert the server says {server.uri}")
    roots = {adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value: cert.read_text()}

    def options(token):
        header = {} if token is None else {adbc_driver_flightsql.DatabaseOptions.AUTHORIZATION_HEADER.value: f"Bearer {token}"}
        return {"db_kwargs": {**roots, **header}}

    for token, what in [(None, "no token"), ("wrong-token", "a wrong token")]:
        try:
            with server.connect(**options(token)) as connection:
                query(connection, "SELECT 1")
            check(False, f"{what} was let in")
        except Exception as error:  # noqa: BLE001
            check("UNAUTHENTICATED" in str(error) or "Unauthenticated" in str(error), f"{what}: {error}")
        still_answers(server, what, **options("first-token"))
    ok("TLS with a self-signed certificate; calls without the token or with a wrong one are refused (UNAUTHENTICATED)")

    with server.connect(**options("first-token")) as connection:
        for sql, what in [
            ("CREATE TABLE x (a INT)", "CREATE TABLE"),
            ("COPY incidents TO '/tmp/mttx-serve-copy.csv'", "COPY ... TO"),
            ("INSERT INTO incidents SELECT * FROM incidents", "INSERT"),
            ("CREATE EXTERNAL TABLE e STORED AS CSV LOCATION '/etc/passwd'", "CREATE EXTERNAL TABLE"),
            ("SET datafusion.execution.batch_size = 1", "SET"),
        ]:
            expect_error(connection, sql, r"read-only", what)
            still_answers(server, what, **options("first-token"))
        check(not Path("/tmp/mttx-serve-copy.csv").exists(), "COPY wrote a file")
        with connection.cursor() as cursor:
            try:
                cursor.adbc_statement.set_substrait_plan(b"\x0a\x00")
                cursor.adbc_statement.execute_query()
                check(False, "a Substrait plan was run")
            except Exception as error:  # noqa: BLE001
                check("Substrait" in str(error), f"a Substrait plan: {error}")
        still_answers(server, "a Substrait plan", **options("first-token"))
    ok("CREATE TABLE, COPY TO, INSERT, CREATE EXTERNAL TABLE, SET and a Substrait plan are refused, and the server answers after each")

    token_file.write_text("second-token\n")
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any("SIGHUP" in line for line in server.lines):
        time.sleep(0.1)
    still_answers(server, "rotating the token", **options("second-token"))
    try:
        with server.connect(**options("first-token")) as connection:
            query(connection, "SELECT 1")
        check(False, "the old token still works after SIGHUP")
    except Exception as error:  # noqa: BLE001
        check("UNAUTHENTICATED" in str(error) or "Unauthenticated" in str(error), f"the old token after SIGHUP: {error}")
    ok("SIGHUP re-reads the token file: the new token works, the old one is refused")
    server.stop()


# --- the server with tight limits ----------------------------------------------------------------

SLOW = "SELECT sum(value % 7) AS n FROM generate_series(1, 100000000000)"


def statement_any(sql):
    """A Flight SQL CommandStatementQuery in a protobuf Any, as bytes."""

    def field(number, payload):
        return bytes([number << 3 | 2]) + varint(len(payload)) + payload

    command = field(1, sql.encode())
    return field(1, b"type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery") + field(2, command)


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def check_limits(mttx, store):
    server = Server(mttx, store, "--query-timeout", "3s", "--max-rows", "1000", "--max-concurrent", "1")
    with server.connect() as connection:
        started = time.monotonic()
        expect_error(connection, SLOW, r"time limit", "a query past its time limit")
        elapsed = time.monotonic() - started
        check(elapsed < 10, f"the time limit of 3 s stopped the query only after {elapsed:.1f} s")
        still_answers(server, "a query past its time limit")
        expect_error(connection, "SELECT * FROM incidents", r"more than 1000 rows", "a result past the row limit")
        still_answers(server, "a result past the row limit")
        check(len(query(connection, "SELECT * FROM incidents LIMIT 1000")) == 1000, "1,000 rows under a limit of 1,000")
    ok(f"a query past --query-timeout 3s fails after {elapsed:.1f} s (DEADLINE_EXCEEDED), a result past --max-rows 1000 fails (RESOURCE_EXHAUSTED), and the server answers after each")

    client = flight.FlightClient(server.uri)
    info = client.get_flight_info(flight.FlightDescriptor.for_command(statement_any(SLOW)))
    # The fetch runs in a process of its own: pyarrow turns a stream ended by CANCELLED into a
    # KeyboardInterrupt of the whole interpreter.
    fetch = subprocess.Popen(
        [sys.executable, __file__, "--fetch", server.uri, info.endpoints[0].ticket.ticket.hex()],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    started = time.monotonic()
    request = b"\x0a" + varint(len(info.serialize())) + info.serialize()
    results = list(client.do_action(flight.Action("CancelFlightInfo", request)))
    check(results and results[0].body.to_pybytes() == b"\x08\x01", f"CancelFlightInfo answered {[r.body.to_pybytes() for r in results]}")
    outcome = fetch.communicate(timeout=30)[0]
    elapsed = time.monotonic() - started
    # pyarrow reports a stream ended with gRPC's CANCELLED as a KeyboardInterrupt; the server's log
    # says what the server did.
    check("cancel" in outcome.lower() or outcome.startswith("KeyboardInterrupt"), f"the cancelled query's stream ended with {outcome!r}")
    time.sleep(0.3)
    check(any("Cancelled: the query was cancelled" in line for line in server.lines), "the server did not log the cancelled query")
    check(elapsed < 2.5, f"the cancelled query took {elapsed:.1f} s to stop")
    still_answers(server, "a cancelled query (its one slot is free again)")
    client.close()
    ok(f"CancelFlightInfo stops a running query in {elapsed:.1f} s and frees the server's one slot")
    server.stop()


def fetch(uri, ticket):
    """DoGet of one ticket; prints how it ended."""
    try:
        flight.FlightClient(uri).do_get(flight.Ticket(bytes.fromhex(ticket))).read_all()
        print("finished")
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001
        print(f"{type(error).__name__}: {error}")


def main():
    if sys.argv[1:2] == ["--fetch"]:
        return fetch(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser()
    parser.add_argument("mttx")
    parser.add_argument("work", type=Path)
    parser.add_argument("--dashboard", type=Path, required=True)
    args = parser.parse_args()
    mttx, work = args.mttx, args.work
    first, second, store = work / "first", work / "second", work / "store"
    for out, seed in [(first, "1"), (second, "2")]:
        subprocess.run([mttx, "generate", "--out", out, "--incidents", "3000", "--seed", seed], check=True, capture_output=True)
    subprocess.run([mttx, "load", "--input", first, "--out", store], check=True, capture_output=True)

    refused = subprocess.run([mttx, "serve", "--input", store, "--bind", "0.0.0.0:0"], capture_output=True, text=True, timeout=60)
    check(refused.returncode == 2 and "loopback only" in refused.stderr, f"without a token, 0.0.0.0 was not refused: {refused.returncode} {refused.stderr}")
    ok("without --token-file, --bind 0.0.0.0 is refused with a message")

    server = Server(mttx, str(store))
    check_tables_and_kpis(mttx, server, str(store))
    check_dashboard(server, args.dashboard)
    check_under_load(server)
    check_during_a_load(mttx, server, str(store), str(second))
    check(any("query from 127.0.0.1" in line for line in server.lines), "queries were not logged")
    server.stop()

    check_token_and_tls(mttx, str(store), work)
    check_limits(mttx, str(store))
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()
