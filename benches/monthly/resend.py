"""Sends last month's incidents that changed again, in a later version, with this month's export.

Usage: resend.py PREVIOUS_INCIDENTS_CSV THIS_MONTHS_INCIDENTS_CSV SHARE

Appended to this month's file, as a tool's export of tickets updated in the month would hold
them: every incident of the previous export still open, now resolved and closed, and every
(1/SHARE)-th resolved one, reopened and resolved again later. Either way its latest lifecycle
timestamp moves on, so the load replaces the stored version.
"""

import csv
import sys
from datetime import datetime, timedelta


def later(text, days):
    moved = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ") + timedelta(days=days)
    return moved.strftime("%Y-%m-%dT%H:%M:%SZ")


def main(previous, current, share):
    step = max(1, round(1 / float(share)))
    with open(previous, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        column = {name: i for i, name in enumerate(header)}
        rows = [row for i, row in enumerate(reader) if not row[column["resolved_at"]] or i % step == 0]
    for row in rows:
        if row[column["resolved_at"]]:
            row[column["reopen_count"]] = str(int(row[column["reopen_count"]] or 0) + 1)
            row[column["resolved_at"]] = later(row[column["resolved_at"]], 2)
            if row[column["closed_at"]]:
                row[column["closed_at"]] = later(row[column["closed_at"]], 2)
        else:
            row[column["resolved_at"]] = later(row[column["opened_at"]], 3)
            row[column["closed_at"]] = later(row[column["opened_at"]], 4)
            row[column["state"]] = "Closed"
    with open(current, "a", newline="") as f:
        csv.writer(f).writerows(rows)
    print(f"sent {len(rows)} incidents of the previous export again")


if __name__ == "__main__":
    main(*sys.argv[1:])
