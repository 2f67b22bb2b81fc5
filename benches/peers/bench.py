#!/usr/bin/env python3
"""The peer benchmark's driver: same answers first, then mttx, DuckDB and Polars timed side by side.

    bench.py --mttx BIN --data DIR --store DIR --as-of RFC3339 --from YYYY-MM --to YYYY-MM [--runs 5]
             [--csv-data DIR] [--out results.md]

For each of the six core KPIs it checks that DuckDB's and Polars' results equal mttx's (peers.py compare:
keys and counts exactly, floats to 1e-9 relative) over the whole period, then times every tool as the median
of --runs runs, each run asking for a different period (the whole period, then one month shorter at the end
each time), so that no tool can answer from a cache. mttx is timed as a whole process, from start to result.
The peers are timed both ways: as whole processes (the interpreter's start and the engine's import
included), and in process (peers.py time: the import done, each query timed alone, the Parquet read
included), as a user in a notebook runs them; the in-process figure is the one to beat. mttx reads the
store; the peers read the exported Parquet files it was loaded from. Then ingest: the Parquet exports into a
store against DuckDB's plain COPY of the same files to Parquet and its COPY as a store writes them (one row
per id, sorted, LZ4_RAW, 65,536-row groups); the store-like copies, which are sorted, into a store against
DuckDB's plain COPY of them; and, with --csv-data, CSV incidents and events into a store against DuckDB's
COPY of read_csv. Peak memory is each process's peak resident set, the largest over its runs.
"""

import argparse
import json
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


def in_process(argv):
    """The median of the seconds a peers.py time or copy process reports, and its peak memory (MiB)."""
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} exited {result.returncode}:\n{result.stderr[-2000:]}")
    report = json.loads(result.stdout)
    return statistics.median(report["seconds"]), report["peak_mib"]


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
        processes = {engine: median_of(args.runs, lambda i, e=engine: [sys.executable, PEERS, "run", "--engine", e, "--kpi", kpi,
                                                                      "--data", args.data, "--as-of", args.as_of,
                                                                      "--from", spans[i][0], "--to", spans[i][1]])
                     for engine in ENGINES}
        inside = {engine: in_process([sys.executable, PEERS, "time", "--engine", engine, "--kpi", kpi, "--data", args.data,
                                      "--as-of", args.as_of, "--periods", ",".join(f"{a}:{b}" for a, b in spans)])
                  for engine in ENGINES}
        rows[kpi] = (mttx, inside, processes)
        print(f"{kpi}: mttx {mttx[0]:.2f} s, " + ", ".join(f"{e} {inside[e][0]:.2f} s in process, {processes[e][0]:.2f} s as a process"
                                                       for e in ENGINES), file=sys.stderr)
    six = median_of(args.runs, lambda i: [args.mttx, "--as-of", args.as_of, "kpi", "--input", args.store, "--from", spans[i][0],
                                          "--to", spans[i][1], "--only", ",".join(KPIS), "--format", "csv"])
    return rows, six


def duck_copy(sources, work, runs, like_store=False):
    """DuckDB's COPY of the sources to Parquet, both ways: (in process, as a whole process), each (s, MiB)."""
    argv = [sys.executable, PEERS, "copy", "--out", work / "copies", *(["--like-store"] if like_store else [])]
    (work / "copies").mkdir(exist_ok=True)
    inside = in_process(argv + ["--runs", str(runs)] + list(map(str, sources)))
    process = median_of(runs, lambda i: argv + ["--runs", "1"] + list(map(str, sources)))
    return inside, process


def time_ingest(args, work):
    """(label, mttx (s, MiB), DuckDB (what it did, in process (s, MiB), as a process (s, MiB))) for each ingest."""
    out = []

    def load(inputs):
        target = work / "ingest-store"
        shutil.rmtree(target, ignore_errors=True)
        return [args.mttx, "load", "--out", target] + [x for i in inputs for x in ("--input", i)]

    runs = args.ingest_runs
    parquet = sorted(Path(args.data).glob("*.parquet"))
    mttx = median_of(runs, lambda i: load(parquet))
    out.append(("Parquet exports → store (all tables)", mttx, ("plain COPY", *duck_copy(parquet, work, runs))))
    out.append(("Parquet exports → store (all tables)", mttx, ("COPY as a store writes", *duck_copy(parquet, work, runs, True))))
    # The store-like copies are the exports sorted as a store sorts them: mttx's load skips its sort.
    sorted_set = work / "sorted"
    shutil.rmtree(sorted_set, ignore_errors=True)
    shutil.copytree(work / "copies", sorted_set)
    ordered = sorted(sorted_set.glob("*.parquet"))
    out.append(("sorted Parquet exports → store", median_of(runs, lambda i: load(ordered)), ("plain COPY", *duck_copy(ordered, work, runs))))
    shutil.rmtree(sorted_set)
    if args.csv_data:
        for table in ("incidents", "events"):
            csv = Path(args.csv_data) / f"{table}.csv"
            size = csv.stat().st_size / 1e6
            out.append((f"CSV {table} ({size:.0f} MB) → store", median_of(runs, lambda i: load([csv])),
                        ("plain COPY", *duck_copy([csv], work, runs))))
    return out


def table(args, verdicts, rows, six, ingest):
    lines = [f"Data: {args.data} (store {args.store}); cut-off {args.as_of}; periods {args.first}..{args.last} and shorter; "
             f"median of {args.runs} runs (ingest {args.ingest_runs}); mttx as a whole process, the peers in process (after "
             "import, the Parquet read included) and as whole processes; peak resident memory is the largest of the runs.", "",
             "| work | mttx (store) | DuckDB in process | Polars in process | mttx ÷ faster in process | DuckDB process | "
             "Polars process | mttx ÷ faster process | same answers |", "|---|---|---|---|---|---|---|---|---|"]

    def cell(figure):
        return f"{figure[0]:.2f} s, {figure[1]:.0f} MiB"

    inside_sum = process_sum = 0.0
    for kpi, ((m, m_mem), inside, processes) in rows.items():
        faster_inside = min(t for t, _ in inside.values())
        faster_process = min(t for t, _ in processes.values())
        inside_sum += faster_inside
        process_sum += faster_process
        same = ", ".join(f"{e}: {'yes' if verdicts[(kpi, e)] == 'same' else 'NO'}" for e in ENGINES)
        lines.append(f"| {kpi} | {cell((m, m_mem))} | {cell(inside['duckdb'])} | {cell(inside['polars'])} | {m / faster_inside:.2f} "
                     f"| {cell(processes['duckdb'])} | {cell(processes['polars'])} | {m / faster_process:.2f} | {same} |")
    total = sum(m for (m, _), _, _ in rows.values())
    lines.append(f"| the six, one process each (sum) | {total:.2f} s | faster peers' sum {inside_sum:.2f} s | | {total / inside_sum:.2f} "
                 f"| faster peers' sum {process_sum:.2f} s | | {total / process_sum:.2f} | |")
    lines.append(f"| the six in one mttx process | {cell(six)} | | | {six[0] / inside_sum:.2f} | | | {six[0] / process_sum:.2f} | |")
    if ingest:
        lines += ["", "| ingest | mttx (whole process) | DuckDB | DuckDB in process | mttx ÷ in process | DuckDB process | mttx ÷ process |",
                  "|---|---|---|---|---|---|---|"]
    for label, mttx, (what, inside, process) in ingest:
        lines.append(f"| {label} | {cell(mttx)} | {what} | {cell(inside)} | {mttx[0] / inside[0]:.2f} | {cell(process)} "
                     f"| {mttx[0] / process[0]:.2f} |")
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
    parser.add_argument("--ingest-runs", type=int, default=3, help="0 leaves ingest out")
    parser.add_argument("--csv-data", help="generated CSV exports, for CSV ingest")
    parser.add_argument("--out", help="also write the table here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mttx-peers-") as tmp:
        work = Path(tmp)
        verdicts = check_answers(args, work)
        rows, six = time_queries(args)
        ingest = time_ingest(args, work) if args.ingest_runs > 0 else []
    text = table(args, verdicts, rows, six, ingest)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
