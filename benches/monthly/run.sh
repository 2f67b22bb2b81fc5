#!/usr/bin/env bash
# Ten years of monthly loads into one store, as a large customer's would be: each month's export
# is generated (about 833,333 incidents opened in the month, changes and CIs in the generator's
# proportions, ids of its own through --id-prefix), the previous month's incidents that were
# still open are sent again resolved, and 1 % of its resolved ones reopened (resend.py), and the
# export is loaded: the first with --out, the rest with --into. Each load's time, peak memory and the store's size go to loads.tsv; a run stopped
# part-way resumes at the first month not recorded there.
#
# Usage: benches/monthly/run.sh [MONTHS [INCIDENTS_PER_MONTH]]
#   MTTX=path/to/mttx     a release binary (default: built here with cargo build --release)
#   MONTHLY_WORK=DIR      the store, the results and the exports in passing (default:
#                         ~/.cache/mttx-monthly); 100 M incidents take about 10 GB without events
#   MONTHLY_EVENTS=1      keep the generated events (about 5 M a month); left out by default
set -euo pipefail

months=${1:-120}
per_month=${2:-833333}
here=$(cd "$(dirname "$0")" && pwd)
work=${MONTHLY_WORK:-$HOME/.cache/mttx-monthly}
if [ -z "${MTTX:-}" ]; then
    (cd "$here/../.." && cargo build --release --quiet)
    MTTX=${CARGO_TARGET_DIR:-$here/../../target}/release/mttx
fi
store=$work/store
results=$work/loads.tsv
mkdir -p "$work"
[ -f "$results" ] || printf 'load\tmonth\tseconds\tpeak_kib\tincidents_read\tstore_incidents\tstore_files\n' > "$results"
export CI=1 # no progress bars in the log

for ((i = 0; i < months; i++)); do
    month=$(date -u -d "2016-11-01 + $i months" +%Y-%m)
    if grep -q "^$((i + 1))	" "$results"; then
        continue
    fi
    export_dir=$work/export
    rm -rf "$export_dir"
    "$MTTX" generate --out "$export_dir" --start "$month-01" --months 1 --incidents "$per_month" \
        --seed "$((i + 1))" --id-prefix "M$(printf %03d "$i")-" > /dev/null
    [ "${MONTHLY_EVENTS:-0}" = 1 ] || rm -f "$export_dir/events.csv"
    # This month's own incidents are the next month's to send again, once this load has landed.
    cp "$export_dir/incidents.csv" "$work/this-incidents.csv"
    if [ "$i" -gt 0 ]; then
        python3 "$here/resend.py" "$work/previous-incidents.csv" "$export_dir/incidents.csv" 0.01 > /dev/null
    fi
    if [ "$i" -gt 0 ]; then
        mode=(--into "$store")
    elif [ -d "$store" ]; then
        mode=(--out "$store" --replace)
    else
        mode=(--out "$store")
    fi
    read_rows=$(($(wc -l < "$export_dir/incidents.csv") - 1))
    /usr/bin/time -f "%e %M" -o "$work/time" "$MTTX" load "${mode[@]}" --input "$export_dir" > "$work/last-load.txt" 2> "$work/last-load.err"
    read -r seconds kib < "$work/time"
    mv "$work/this-incidents.csv" "$work/previous-incidents.csv"
    summary=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(m['tables']['incidents']['rows'], sum(len(t['files']) for t in m['tables'].values()))" "$store/manifest.json")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$((i + 1))" "$month" "$seconds" "$kib" "$read_rows" "${summary// /	}" | tee -a "$results"
done
rm -rf "$work/export"
