#!/usr/bin/env python3
"""The peer benchmark's driver: same answers first, then mttx, DuckDB and Polars timed side by side.

    bench.py --mttx BIN --data DIR --store DIR --as-of RFC3339 --from YYYY-MM --to YYYY-MM [--runs 5]
             [--csv-data DIR] [--out results.md]

For each of the six core KPIs it checks that DuckDB's and Polars' results equal mttx's (peers.py compare:
keys and counts exactly, floats to 1e-9 relative) over the whole period, then times every tool as a whole
process, from start to result, as the median of --runs runs, with each process's peak resident memory.
Each run asks for a different period (the whole period, then one month shorter at the end each time), so
no tool can answer from a cache. mttx reads the store; the peers read the exported Parquet files it was
loaded from. Then ingest: Parquet exports into a store against DuckDB's COPY of the same files to Parquet,
and, with --csv-data, CSV incidents and events into a store against DuckDB's COPY of read_csv.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers.py"
KPIS = ("mttr", "mtta", "mttd", "mtbf", "problem_trend", "patch_incident_correlation")
ENGINES = ("duckdb", "polars")


def timed(argv, stdout=subprocess.DEVNULL):
    """Wall seconds and peak resident memory (MiB) of one process, from fork to exit."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    stderr = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} exited {code}:\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def median_of(runs, argv_for):
    """Median seconds and the largest peak memory over `runs` runs; run i gets argv_for(i)."""
    results = [timed(argv_for(i)) for i in range(runs)]
    return statistics.median(s for s, _ in results), max(m for _, m in results)


def month_before(label):
    y, m = (int(p) for p in label.split("-"))
    return f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"


def periods(first, last, runs):
    """The whole period, then one month shorter at the end each run (never shorter than one month)."""
    out, end = [], last
    for _ in range(runs):
        out.append((first, end))
        if end > first:
            end = month_before(end)
    return out


def check_answers(args, work):
    """peers.py compare of each peer against mttx, per KPI: "same", or what differs."""
    verdicts = {}
    raw = work / "mttx.json"
    subprocess.run([args.mttx, "--as-of", args.as_of, "kpi", "--input", args.store, "--from", args.first, "--to", args.last,
                    "--only", ",".join(KPIS), "--format", "json", "--out", raw], check=True)
    for kpi in KPIS:
        ours = work / f"{kpi}.mttx.json"
        subprocess.run([sys.executable, PEERS, "mttx", "--kpi", kpi, "--json", raw, "--out", ours], check=True)
        for engine in ENGINES:
            theirs = work / f"{kpi}.{engine}.json"
            subprocess.run([sys.executable, PEERS, "run", "--engine", engine, "--kpi", kpi, "--data", args.data,
                            "--as-of", args.as_of, "--from", args.first, "--to", args.last, "--out", theirs], check=True)
            result = subprocess.run([sys.executable, PEERS, "compare", ours, theirs], capture_output=True, text=True)
            verdicts[(kpi, engine)] = "same" if result.returncode == 0 else result.stdout.strip()
            print(result.stdout.strip(), file=sys.stderr)
    return verdicts


def time_queries(args):
    spans = periods(args.first, args.last, args.runs)
    rows = {}
    for kpi in KPIS:
        mttx = median_of(args.runs, lambda i: [args.mttx, "--as-of", args.as_of, "kpi", "--input", args.store, "--from", spans[i][0],
                                                 "--to", spans[i][1], "--only", kpi, "--format", "csv"])
        peers = {engine: median_of(args.runs, lambda i, e=engine: [sys.executable, PEERS, "run", "--engine", e, "--kpi", kpi,
                                                                  "--data", args.data, "--as-of", args.as_of,
                                                                  "--from", spans[i][0], "--to", spans[i][1]])
                 for engine in ENGINES}
        rows[kpi] = (mttx, peers)
        print(f"{kpi}: mttx {mttx[0]:.2f} s, " + ", ".join(f"{e} {t:.2f} s" for e, (t, _) in peers.items()), file=sys.stderr)
    six = median_of(args.runs, lambda i: [args.mttx, "--as-of", args.as_of, "kpi", "--input", args.store, "--from", spans[i][0],
                                          "--to", spans[i][1], "--only", ",".join(KPIS), "--format", "csv"])
    return rows, six


def duck_copy(sources, work):
    """DuckDB COPY of each source file to Parquet, in one process, as a Python script."""
    script = "import duckdb, sys\ncon = duckdb.connect()\n"
    for i, source in enumerate(sources):
        reader = "read_csv" if source.suffix == ".csv" else "read_parquet"
        script += f"con.execute(\"COPY (SELECT * FROM {reader}('{source}')) TO '{work / f'copy{i}.parquet'}' (FORMAT parquet)\")\n"
    path = work / "copy.py"
    path.write_text(script)
    return [sys.executable, path]


def time_ingest(args, work):
    """(label, mttx (s, MiB), duckdb (s, MiB)) for each ingest measured."""
    out = []

    def load(inputs):
        target = work / "ingest-store"
        shutil.rmtree(target, ignore_errors=True)
        return [args.mttx, "load", "--out", target] + [x for i in inputs for x in ("--input", i)]

    parquet = sorted(Path(args.data).glob("*.parquet"))
    out.append(("Parquet exports → store (all tables)", median_of(args.ingest_runs, lambda i: load(parquet)),
                median_of(args.ingest_runs, lambda i: duck_copy(parquet, work))))
    if args.csv_data:
        for table in ("incidents", "events"):
            csv = Path(args.csv_data) / f"{table}.csv"
            size = csv.stat().st_size / 1e6
            out.append((f"CSV {table} ({size:.0f} MB) → store", median_of(args.ingest_runs, lambda i: load([csv])),
                        median_of(args.ingest_runs, lambda i: duck_copy([csv], work))))
    return out


def table(args, verdicts, rows, six, ingest):
    lines = [f"Data: {args.data} (store {args.store}); cut-off {args.as_of}; periods {args.first}..{args.last} and shorter; "
             f"median of {args.runs} runs, whole processes; peak resident memory is the largest of the runs.", "",
             "| work | mttx (store) | DuckDB | Polars | mttx ÷ faster peer | same answers |", "|---|---|---|---|---|---|"]
    faster_sum = 0.0
    for kpi, ((m, m_mem), peers) in rows.items():
        faster = min(t for t, _ in peers.values())
        faster_sum += faster
        same = ", ".join(f"{e}: {'yes' if verdicts[(kpi, e)] == 'same' else 'NO'}" for e in ENGINES)
        cells = [f"{t:.2f} s, {mem:.0f} MiB" for t, mem in (peers[e] for e in ENGINES)]
        lines.append(f"| {kpi} | {m:.2f} s, {m_mem:.0f} MiB | {cells[0]} | {cells[1]} | {m / faster:.2f} | {same} |")
    total = sum(m for (m, _), _ in rows.values())
    lines.append(f"| the six, one process each (sum) | {total:.2f} s | | | {total / faster_sum:.2f} of the faster peers' sum {faster_sum:.2f} s | |")
    lines.append(f"| the six in one mttx process | {six[0]:.2f} s, {six[1]:.0f} MiB | | | {six[0] / faster_sum:.2f} | |")
    for label, (m, m_mem), (d, d_mem) in ingest:
        lines.append(f"| {label} | {m:.2f} s, {m_mem:.0f} MiB | {d:.2f} s, {d_mem:.0f} MiB (COPY) | | {m / d:.2f} | |")
    differences = [f"- {kpi} ({engine}): {verdict}" for (kpi, engine), verdict in verdicts.items() if verdict != "same"]
    if differences:
        lines += ["", "Where the answers differ (timed all the same):", *differences]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mttx", required=True)
    parser.add_argument("--data", required=True, help="the generated Parquet exports")
    parser.add_argument("--store", required=True, help="a store loaded from them")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--from", dest="first", required=True)
    parser.add_argument("--to", dest="last", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ingest-runs", type=int, default=3)
    parser.add_argument("--csv-data", help="generated CSV exports, for CSV ingest")
    parser.add_argument("--out", help="also write the table here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mttx-peers-") as tmp:
        work = Path(tmp)
        verdicts = check_answers(args, work)
        rows, six = time_queries(args)
        ingest = time_ingest(args, work)
    text = table(args, verdicts, rows, six, ingest)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
