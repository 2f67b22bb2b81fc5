#!/usr/bin/env bash
# The peer benchmark (docs/performance.md): mttx against Python DuckDB and Polars on one data set.
# Each run's table goes to benches/peers/results/<UTC date and time>-<scale>.md, headed by the
# machine, the command and the mttx commit, so that a figure can always be traced to its run.
#
#   bash benches/peers/run.sh [10m|1m|small]
#
# 10m is the data set of issue 13: 10 M incidents, 1 M changes, 20,000 CIs, 24 months, 60 % patches,
# seed 13. It needs about 30 GB of disk under $PEERS_WORK and an hour or more on two cores. 1m and
# small are the same shape, smaller, for trying the script. Set MTTX to a release binary to skip the
# build; INGEST_RUNS=0 times the queries only. Measure on a quiet machine: no build or other benchmark
# at the same time.
set -euo pipefail

scale=${1:-10m}
# CSV ingest is measured on at most 1 M incidents (the issue's 196 MB file), the rest alike.
case "$scale" in
  10m) incidents=10000000 csv_incidents=1000000 shape=(--changes 1000000 --cis 20000) ;;
  1m) incidents=1000000 csv_incidents=1000000 shape=(--changes 100000 --cis 2000) ;;
  small) incidents=20000 csv_incidents=20000 shape=(--changes 2000 --cis 40) ;;
  *) echo "usage: $0 [10m|1m|small]" >&2; exit 2 ;;
esac
shape+=(--months 24 --start 2024-11-01 --patch-share 0.6 --seed 13)
as_of=2026-11-01T00:00:00Z
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${PEERS_WORK:-$HOME/.cache/mttx-peers}
mkdir -p "$work"

# The peers, pinned, in a venv of their own: they are benchmark peers, not dependencies of mttx.
venv="$work/venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet duckdb==2.0.1 polars==2.1.0
fi

if [ -z "${MTTX:-}" ]; then
  (cd "$root" && cargo build --release --quiet)
  MTTX="${CARGO_TARGET_DIR:-$root/target}/release/mttx"
fi

# The data, once per scale: Parquet exports for the queries, CSV for CSV ingest, and a store.
data="$work/data-$scale"
if [ ! -f "$data/ground_truth.json" ]; then
  rm -rf "$data"
  "$MTTX" generate --incidents "$incidents" "${shape[@]}" --format parquet --out "$data"
fi
csv="$work/csv-$scale"
if [ ! -f "$csv/ground_truth.json" ]; then
  rm -rf "$csv"
  "$MTTX" generate --incidents "$csv_incidents" "${shape[@]}" --format csv --out "$csv"
fi
store="$work/store-$scale"
if [ ! -f "$store/manifest.json" ]; then
  rm -rf "$store"
  "$MTTX" load --input "$data" --out "$store"
fi

started=$(date -u +%Y-%m-%dT%H%MZ)
"$venv/bin/python" "$root/benches/peers/bench.py" --mttx "$MTTX" --data "$data" --store "$store" --csv-data "$csv" \
  --as-of "$as_of" --from 2024-11 --to 2026-10 --runs "${RUNS:-5}" --ingest-runs "${INGEST_RUNS:-3}" --out "$work/results-$scale.md"

results="$root/benches/peers/results"
mkdir -p "$results"
{
  echo "# Peer benchmark, $scale, $started"
  echo
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "- command: \`RUNS=${RUNS:-5} INGEST_RUNS=${INGEST_RUNS:-3} bash benches/peers/run.sh $scale\`"
  echo "- mttx: $("$MTTX" --version), commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- peers: DuckDB 2.0.1, Polars 2.1.0 (Python $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])'))"
  echo
  cat "$work/results-$scale.md"
} > "$results/$started-$scale.md"
echo "results: $results/$started-$scale.md"
