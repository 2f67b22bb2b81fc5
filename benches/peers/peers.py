#!/usr/bin/env python3
"""Peers for the mttx benchmark: six KPIs computed with DuckDB and with Polars, as queries/*.sql define them.

    peers.py run --engine duckdb|polars --kpi ID --data DIR --as-of RFC3339 --from YYYY-MM --to YYYY-MM [--out FILE]
    peers.py mttx --kpi ID --json MTTX_KPI_JSON --out FILE
    peers.py time --engine duckdb|polars --kpi ID --data DIR --as-of RFC3339 --periods FROM:TO[,FROM:TO...]
    peers.py copy --out DIR --runs N [--like-store] FILE...
    peers.py compare A.json B.json
    peers.py describe

KPIs: mttr, mtta, mttd, mtbf, problem_trend, patch_incident_correlation, each in full in both engines
(`describe`). The driver times them two ways. As a whole process: `run` without --out materialises the
result in the engine and converts nothing to Python, so the process's time is the interpreter's start, the
engine's import and the query. In process, as a user in a notebook runs them: `time` imports the engine
once, then times each period's query alone (the Parquet read included, a new connection each time, so no
run answers from an earlier one's cache) and prints the seconds of each as JSON. `copy` times DuckDB's
COPY of files to Parquet the same way, plainly or (--like-store) as a store writes them.

What the peers assume, so that they read the Parquet files mttx loads and get mttx's numbers:
- The reporting time zone is UTC: report_month(ts) is the UTC calendar month of ts.
- The data is canonical and passes mttx's ingest checks, as `mttx generate` writes it (timestamps in order,
  no sentinel dates, unique ids, canonical outcomes); the peers do not re-validate it.
- The cut-off applies as mttx's loader applies it: an incident or problem opened after it does not exist yet,
  and a timestamp after it reads as null. The queries do this where it can change a result (comments say
  where a KPI's own filters make it moot).

Normalised JSON: {"kpi": ID, "keys": [...], "rows": [{column: value}, ...]}, rows sorted by the keys (nulls
last), months 'YYYY-MM'. `compare` checks keys and counts exactly, floats to 1e-9 relative.
"""

import argparse
import functools
import itertools
import json
import math
import resource
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

# duckdb and polars are imported by the run that uses them: a timed run pays for its own engine's import only.
pl = None

UTC = timezone.utc
US_PER_HOUR = 3_600_000_000
EXIT_NOT_IMPLEMENTED = 3


@dataclass(frozen=True)
class Shape:
    """A KPI's result columns as mttx names them: keys and integer counts compare exactly, floats within a tolerance."""

    keys: tuple
    ints: tuple
    floats: tuple


DURATION_SHAPE = Shape(("month", "scope", "priority"), ("n",), ("mean_hours", "p50_hours", "p90_hours"))
SHAPES = {
    "mttr": DURATION_SHAPE, "mtta": DURATION_SHAPE, "mttd": DURATION_SHAPE,
    "mtbf": Shape(("scope", "key"), ("outages", "month_outages", "degradations", "planned_outages"),
                  ("agreed_hours", "downtime_hours", "mtbf_hours", "mtbsi_hours", "mean_outage_hours", "availability",
                   "month_agreed_hours", "month_downtime_hours", "month_availability", "degradation_hours", "planned_hours",
                   "mean_gap_hours")),
    "problem_trend": Shape(("month",), ("incidents", "incidents_with_problem", "problems_opened", "problems_resolved",
                                        "problems_left_queue", "problems_open_at_month_end", "base_opened"),
                           ("pct_with_problem", "queue_rate", "mean_open_age_days", "p50_open_age_days",
                            "problem_growth_vs_base")),
    "patch_incident_correlation": Shape(("outcome_group",), ("patches", "followed_by_incident", "caused_by_link"),
                                        ("rate", "lift", "lift_low", "lift_high", "p_value")),
}

# mttr, mtta and mttd differ only in the interval they measure and in the timestamp that places an incident
# in a month: (start, end, month_of). The filter `start and end set, end <= cut-off, month_of in the period`
# is each query's WHERE clause (mttd's `opened_at <= as_of` is its end; mttr's opened_at is always set).
DURATIONS = {"mttr": ("opened_at", "resolved_at", "resolved_at"), "mtta": ("opened_at", "acknowledged_at", "opened_at"),
             "mttd": ("started_at", "opened_at", "opened_at")}
PATCH_OUTCOMES = ("failed", "backed_out", "successful", "successful_with_issues")
FAILED_OUTCOMES = ("failed", "backed_out")


@dataclass(frozen=True)
class Window:
    """What mttx's `params` and `months` tables hold: the period, the cut-off and the tuning."""

    as_of: datetime
    months: tuple  # (label, start, end) of each calendar month of the period, UTC
    correlation_window_hours: int = 72
    failure_priority: Optional[int] = None
    availability_months: int = 12
    period_start = property(lambda self: self.months[0][1])
    period_end = property(lambda self: self.months[-1][2])
    window_end = property(lambda self: min(self.period_end, self.as_of))  # mtbf: the period, ended at the cut-off
    month_start = property(lambda self: self.months[-1][1])  # mtbf's month window, before clipping to the data

    @property
    def rolling_start(self):
        """mtbf's rolling window: availability_months calendar months ending with the period's last, unclipped."""
        y, m = self.month_start.year, self.month_start.month
        index = y * 12 + m - 1 - (self.availability_months - 1)
        return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def make_window(as_of, first, last, window_hours=72, failure_priority=None, availability_months=12):
    cut = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
    cut = cut.replace(tzinfo=UTC) if cut.tzinfo is None else cut.astimezone(UTC)
    (y, m), end = (tuple(int(p) for p in ym.split("-")) for ym in (first, last))
    if (y, m) > end:
        sys.exit(f"--from {first} is after --to {last}")
    months = []
    while (y, m) <= end:
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        months.append((f"{y:04d}-{m:02d}", datetime(y, m, 1, tzinfo=UTC), datetime(ny, nm, 1, tzinfo=UTC)))
        y, m = ny, nm
    return Window(cut, tuple(months), window_hours, failure_priority, availability_months)


# ---------------------------------------------------------------------------------------------------------
# DuckDB: mttx's SQL, transcribed. report_month(ts) becomes date_trunc('month', ts) in a UTC session, named
# only after grouping; durations are epoch_us differences, which are exact.

def duck_duration(kpi):
    start, end, month_of = DURATIONS[kpi]
    return f"""
WITH durations AS (
    SELECT date_trunc('month', i.{month_of}) AS month_start, i.priority,
           (epoch_us(i.{end}) - epoch_us(i.{start})) / {US_PER_HOUR} AS hours
    FROM incidents i CROSS JOIN params p
    WHERE i.{start} IS NOT NULL AND i.{end} IS NOT NULL AND i.{end} <= p.as_of
      AND i.{month_of} >= p.period_start AND i.{month_of} < p.period_end
),
stats AS (
    SELECT strftime(month_start, '%Y-%m') AS month, CASE WHEN grouping(priority) = 1 THEN 'all' ELSE 'priority' END AS scope,
           priority, count(hours) AS n, avg(hours) AS mean_hours,
           quantile_cont(hours, [0.5, 0.9]) AS q  -- one sort for both percentiles
    FROM durations GROUP BY GROUPING SETS ((month_start, priority), (month_start))
),
-- mttx's kpi_grid: every month with priorities 1..5 and any other priority (null too) of an incident that
-- exists at the cut-off, and one all-priorities row per month.
grid AS (
    SELECT m.month, 'priority' AS scope, g.priority
    FROM months m CROSS JOIN (SELECT unnest([1, 2, 3, 4, 5])::BIGINT AS priority
                              UNION SELECT i.priority FROM incidents i, params p WHERE i.opened_at <= p.as_of) g
    UNION ALL SELECT m.month, 'all', NULL FROM months m
)
SELECT coalesce(g.month, s.month) AS month, coalesce(g.scope, s.scope) AS scope, coalesce(g.priority, s.priority) AS priority,
       coalesce(s.n, 0) AS n, s.mean_hours, s.q[1] AS p50_hours, s.q[2] AS p90_hours
FROM grid g FULL JOIN stats s ON s.month = g.month AND s.scope = g.scope AND s.priority IS NOT DISTINCT FROM g.priority
"""


DUCK_MTBF = f"""
-- The built-in SLA policy names no service, so every agreed service time is 24x7: agreed hours are wall-clock
-- hours of the observed span. The windows come from params: the rolling months and the last month, each
-- clipped where the data starts (the first incident) and ended at the period end or the cut-off.
WITH first_incident AS (SELECT min(opened_at) AS t FROM incidents),
w AS (
    SELECT v.win, least(greatest(CASE WHEN v.win = 'rolling' THEN p.rolling_start ELSE p.month_start END, f.t),
                        least(p.period_end, p.as_of)) AS ws,
           least(p.period_end, p.as_of) AS we, p.as_of
    FROM (VALUES ('rolling'), ('month')) v(win), params p, first_incident f
),
has_outages AS (SELECT count(*) > 0 AS yes FROM outages),
-- Outage records as they stood at the cut-off (begun by then; an end after it is no end yet), or else the
-- major incidents (and those of failure_priority and higher, when it is set).
records AS (
    SELECT o.type, o.ci, coalesce(o.service, c.service) AS service, o.begins_at AS s,
           CASE WHEN o.ends_at <= p.as_of THEN o.ends_at END AS e
    FROM outages o LEFT JOIN cis c ON c.id = o.ci, params p
    WHERE o.begins_at <= p.as_of
    UNION ALL
    SELECT 'outage', i.ci, coalesce(i.service, c.service), coalesce(i.started_at, i.opened_at),
           CASE WHEN i.resolved_at <= p.as_of THEN i.resolved_at END
    FROM incidents i LEFT JOIN cis c ON c.id = i.ci, params p, has_outages h
    WHERE NOT h.yes AND i.opened_at <= p.as_of
      AND (coalesce(i.major, false) OR coalesce(i.priority <= p.failure_priority, false))
),
spans AS (
    SELECT 'ci' AS scope, c.id AS key, w.win, greatest(c.in_service_from, w.ws) AS os, least(c.in_service_to, w.we) AS oe
    FROM cis c, w
    UNION ALL
    SELECT 'service', s.service, w.win, w.ws, w.we FROM (SELECT DISTINCT service FROM cis WHERE service IS NOT NULL) s, w
),
hits AS (
    SELECT h.scope, h.key, h.win, h.type, h.s, h.e, coalesce(sp.os, h.ws) AS os, coalesce(sp.oe, h.we) AS oe
    FROM (SELECT sc.scope, CASE WHEN sc.scope = 'ci' THEN r.ci ELSE r.service END AS key, w.win, w.ws, w.we,
                 r.type, r.s, coalesce(r.e, w.we) AS e
          FROM records r, w, (VALUES ('ci'), ('service')) sc(scope)
          WHERE r.s < w.we AND coalesce(r.e, w.we) > w.ws) h
    LEFT JOIN spans sp ON sp.scope = h.scope AND sp.key = h.key AND sp.win = h.win
    WHERE h.key IS NOT NULL
),
counted AS (SELECT * FROM hits WHERE s < oe AND e > os),
-- Union of each entity's records of one type in one window, clipped to its span (gaps and islands).
clipped AS (SELECT scope, key, win, type, greatest(s, os) AS s, least(e, oe) AS e FROM counted),
ordered AS (
    SELECT *, max(e) OVER (PARTITION BY scope, key, win, type ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
    FROM clipped WHERE e > s
),
islands AS (
    SELECT *, sum(CASE WHEN previous_end IS NULL OR s > previous_end THEN 1 ELSE 0 END)
               OVER (PARTITION BY scope, key, win, type ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
),
merged AS (SELECT scope, key, win, type, min(s) AS s, max(e) AS e FROM islands GROUP BY scope, key, win, type, island),
unions AS (
    SELECT scope, key, win, type, sum(epoch_us(e) - epoch_us(s)) / {US_PER_HOUR} AS hours, avg(gap) / {US_PER_HOUR} AS mean_gap_hours
    FROM (SELECT *, epoch_us(lead(s) OVER (PARTITION BY scope, key, win, type ORDER BY s)) - epoch_us(e) AS gap FROM merged)
    GROUP BY scope, key, win, type
),
stats AS (
    SELECT c.scope, c.key, c.win, max(c.os) AS os, max(c.oe) AS oe,
           count(*) FILTER (WHERE c.type = 'outage') AS outages,
           count(*) FILTER (WHERE c.type = 'degradation') AS degradations,
           count(*) FILTER (WHERE c.type = 'planned') AS planned_outages
    FROM counted c GROUP BY c.scope, c.key, c.win
),
observed AS (
    SELECT coalesce(sp.scope, st.scope) AS scope, coalesce(sp.key, st.key) AS key, coalesce(sp.win, st.win) AS win,
           coalesce(sp.os, st.os) AS os, coalesce(sp.oe, st.oe) AS oe,
           coalesce(st.outages, 0) AS outages, coalesce(st.degradations, 0) AS degradations,
           coalesce(st.planned_outages, 0) AS planned_outages
    FROM spans sp FULL JOIN stats st ON st.scope = sp.scope AND st.key = sp.key AND st.win = sp.win
),
figures AS (
    SELECT o.*, (epoch_us(o.oe) - epoch_us(o.os)) / {US_PER_HOUR} AS agreed,
           coalesce(d.hours, 0.0) AS down, coalesce(g.hours, 0.0) AS degraded, coalesce(pl.hours, 0.0) AS planned,
           d.mean_gap_hours
    FROM observed o
    LEFT JOIN unions d ON d.scope = o.scope AND d.key = o.key AND d.win = o.win AND d.type = 'outage'
    LEFT JOIN unions g ON g.scope = o.scope AND g.key = o.key AND g.win = o.win AND g.type = 'degradation'
    LEFT JOIN unions pl ON pl.scope = o.scope AND pl.key = o.key AND pl.win = o.win AND pl.type = 'planned'
    WHERE o.oe > o.os
),
entities AS (
    SELECT scope, key,
           max(outages) FILTER (WHERE win = 'rolling') AS outages, max(agreed) FILTER (WHERE win = 'rolling') AS agreed_hours,
           max(down) FILTER (WHERE win = 'rolling') AS downtime_hours,
           max(outages) FILTER (WHERE win = 'month') AS month_outages, max(agreed) FILTER (WHERE win = 'month') AS month_agreed_hours,
           max(down) FILTER (WHERE win = 'month') AS month_downtime_hours,
           max(degradations) FILTER (WHERE win = 'rolling') AS degradations, max(degraded) FILTER (WHERE win = 'rolling') AS degradation_hours,
           max(planned_outages) FILTER (WHERE win = 'rolling') AS planned_outages, max(planned) FILTER (WHERE win = 'rolling') AS planned_hours,
           max(mean_gap_hours) FILTER (WHERE win = 'rolling') AS mean_gap_hours
    FROM figures GROUP BY scope, key
)
SELECT scope, key, outages, agreed_hours, downtime_hours,
       (agreed_hours - downtime_hours) / nullif(outages, 0) AS mtbf_hours, agreed_hours / nullif(outages, 0) AS mtbsi_hours,
       downtime_hours / nullif(outages, 0) AS mean_outage_hours, (agreed_hours - downtime_hours) / nullif(agreed_hours, 0) AS availability,
       month_outages, month_agreed_hours, month_downtime_hours,
       (month_agreed_hours - month_downtime_hours) / nullif(month_agreed_hours, 0) AS month_availability,
       degradations, degradation_hours, planned_outages, planned_hours, mean_gap_hours
FROM entities WHERE agreed_hours IS NOT NULL
"""

DUCK_PROBLEM_TREND = """
WITH cuts AS (SELECT m.month, least(m.month_end, p.as_of) AS cut FROM months m CROSS JOIN params p),
inc AS (
    SELECT date_trunc('month', i.opened_at) AS month_start, count(*) AS incidents, count(i.problem_id) AS incidents_with_problem
    FROM incidents i CROSS JOIN params p
    WHERE i.opened_at >= p.period_start AND i.opened_at < p.period_end AND i.opened_at <= p.as_of
    GROUP BY 1
),
-- Problems as they stood at the cut-off: a resolved_at or closed_at after it has not happened yet. That
-- matters for open_at_end, whose coalesce could otherwise take a resolved_at from after the cut-off.
pr AS (
    SELECT pr.opened_at, CASE WHEN pr.resolved_at <= p.as_of THEN pr.resolved_at END AS resolved_at,
           CASE WHEN pr.closed_at <= p.as_of THEN pr.closed_at END AS closed_at
    FROM problems pr CROSS JOIN params p WHERE pr.opened_at <= p.as_of
),
opened AS (
    SELECT date_trunc('month', opened_at) AS month_start, count(*) AS problems_opened
    FROM pr CROSS JOIN params p WHERE opened_at >= p.period_start AND opened_at < p.period_end GROUP BY 1
),
resolved AS (
    SELECT date_trunc('month', resolved_at) AS month_start, count(*) AS problems_resolved
    FROM pr CROSS JOIN params p WHERE resolved_at >= p.period_start AND resolved_at < p.period_end GROUP BY 1
),
left_queue AS (
    SELECT date_trunc('month', coalesce(resolved_at, closed_at)) AS month_start, count(*) AS problems_left_queue
    FROM pr CROSS JOIN params p
    WHERE coalesce(resolved_at, closed_at) >= p.period_start AND coalesce(resolved_at, closed_at) < p.period_end GROUP BY 1
),
open_at_end AS (
    SELECT c.month, count(pr.opened_at) AS problems_open_at_month_end,
           avg(epoch(c.cut) - epoch(pr.opened_at)) / 86400.0 AS mean_open_age_days,
           median(epoch(c.cut) - epoch(pr.opened_at)) / 86400.0 AS p50_open_age_days
    FROM cuts c LEFT JOIN pr ON pr.opened_at < c.cut
        AND (coalesce(pr.resolved_at, pr.closed_at) IS NULL OR coalesce(pr.resolved_at, pr.closed_at) >= c.cut)
    GROUP BY c.month
),
-- The base month: the first that starts at or after the first incident.
first_month AS (
    SELECT CASE WHEN date_trunc('month', t) = t THEN date_trunc('month', t) ELSE date_trunc('month', t) + INTERVAL 1 MONTH END AS bs
    FROM (SELECT min(i.opened_at) AS t FROM incidents i CROSS JOIN params p WHERE i.opened_at <= p.as_of)
),
base AS (
    SELECT count(pr.opened_at) AS base_opened
    FROM first_month b LEFT JOIN pr ON pr.opened_at >= b.bs AND pr.opened_at < b.bs + INTERVAL 1 MONTH
),
monthly AS (
    SELECT m.month, coalesce(inc.incidents, 0) AS incidents, coalesce(inc.incidents_with_problem, 0) AS incidents_with_problem,
           coalesce(o.problems_opened, 0) AS problems_opened, coalesce(r.problems_resolved, 0) AS problems_resolved,
           coalesce(lq.problems_left_queue, 0) AS problems_left_queue,
           e.problems_open_at_month_end, e.mean_open_age_days, e.p50_open_age_days
    FROM months m
    LEFT JOIN inc ON inc.month_start = m.month_start
    LEFT JOIN opened o ON o.month_start = m.month_start
    LEFT JOIN resolved r ON r.month_start = m.month_start
    LEFT JOIN left_queue lq ON lq.month_start = m.month_start
    LEFT JOIN open_at_end e ON e.month = m.month
)
SELECT month, incidents, incidents_with_problem, 100.0 * incidents_with_problem / nullif(incidents, 0) AS pct_with_problem,
       problems_opened, problems_resolved, problems_left_queue,
       problems_left_queue / nullif(problems_opened, 0) AS queue_rate,
       problems_open_at_month_end, mean_open_age_days, p50_open_age_days, base_opened,
       100.0 * (problems_opened - base_opened) / nullif(base_opened, 0) AS problem_growth_vs_base
FROM monthly CROSS JOIN base
"""

# Counts per outcome group; patch_rows() turns them into rates, lift and p_value for both engines.
DUCK_PATCH = f"""
WITH patches AS (
    SELECT c.id, c.ci, c.actual_end,
           CASE WHEN c.outcome IN {FAILED_OUTCOMES} THEN 'failed' ELSE 'successful' END AS outcome_group
    FROM changes c CROSS JOIN params p
    WHERE c.is_patch AND c.outcome IN {PATCH_OUTCOMES} AND c.actual_end <= p.as_of
      AND c.actual_end >= p.period_start AND c.actual_end < p.period_end
),
later AS (
    SELECT i.ci, i.opened_at FROM incidents i CROSS JOIN params p
    WHERE i.ci IS NOT NULL AND i.opened_at <= p.as_of AND i.opened_at > p.period_start
),
-- mttx asks whether some incident on the patch's CI was opened in (actual_end, actual_end + window]; that
-- is whether the first one opened after actual_end was, which an ASOF join finds without pairing the patch
-- with every incident of its CI.
nearest AS (
    SELECT pa.id, pa.outcome_group,
           coalesce(epoch_us(l.opened_at) - epoch_us(pa.actual_end)
                    <= (SELECT correlation_window_hours FROM params) * {US_PER_HOUR}, false) AS followed
    FROM patches pa ASOF LEFT JOIN later l ON pa.ci = l.ci AND pa.actual_end < l.opened_at
),
linked AS (
    SELECT DISTINCT i.caused_by_change AS id FROM incidents i CROSS JOIN params p
    WHERE i.caused_by_change IS NOT NULL AND i.opened_at <= p.as_of
)
SELECT n.outcome_group, count(*) AS patches, count(*) FILTER (WHERE n.followed) AS followed_by_incident,
       count(l.id) AS caused_by_link
FROM nearest n LEFT JOIN linked l ON l.id = n.id
GROUP BY n.outcome_group
"""

OUTAGES_EMPTY = """SELECT NULL::VARCHAR AS id, NULL::VARCHAR AS ci, NULL::VARCHAR AS service, NULL::VARCHAR AS type,
                           NULL::TIMESTAMPTZ AS begins_at, NULL::TIMESTAMPTZ AS ends_at, NULL::VARCHAR AS task_id LIMIT 0"""

DUCK_QUERIES = {  # the query and the tables it reads
    **{kpi: (duck_duration(kpi), ("incidents",)) for kpi in DURATIONS},
    "mtbf": (DUCK_MTBF, ("incidents", "cis", "outages")),
    "problem_trend": (DUCK_PROBLEM_TREND, ("incidents", "problems")),
    "patch_incident_correlation": (DUCK_PATCH, ("incidents", "changes")),
}


def run_duckdb(kpi, data, w, want_rows):
    import duckdb

    sql, tables = DUCK_QUERIES[kpi]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # date_trunc and strftime of a TIMESTAMPTZ follow the session's zone
    for table in tables:
        path = str(Path(data) / f"{table}.parquet").replace("'", "''")
        if table == "outages" and not Path(path).exists():  # optional, as in mttx: absent reads as empty
            con.execute(f"CREATE VIEW outages AS SELECT * FROM ({OUTAGES_EMPTY})")
            continue
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    con.execute("""CREATE TEMP TABLE params AS SELECT $ps::TIMESTAMPTZ AS period_start, $pe::TIMESTAMPTZ AS period_end,
                   $as_of::TIMESTAMPTZ AS as_of, $fp::BIGINT AS failure_priority, $wh::BIGINT AS correlation_window_hours,
                   $rs::TIMESTAMPTZ AS rolling_start, $ms::TIMESTAMPTZ AS month_start""",
                {"ps": w.period_start, "pe": w.period_end, "as_of": w.as_of, "fp": w.failure_priority,
                 "wh": w.correlation_window_hours, "rs": w.rolling_start, "ms": w.month_start})
    labels, starts, ends = (list(column) for column in zip(*w.months))
    con.execute("""CREATE TEMP TABLE months AS SELECT unnest($l::VARCHAR[]) AS month,
                   unnest($s::TIMESTAMPTZ[]) AS month_start, unnest($e::TIMESTAMPTZ[]) AS month_end""",
                {"l": labels, "s": starts, "e": ends})
    # Materialise inside DuckDB, so that a timed run without --out pays no conversion to Python.
    con.execute(f"CREATE TEMP TABLE result AS {sql}")
    if not want_rows and kpi != "patch_incident_correlation":
        return None
    cursor = con.execute("SELECT * FROM result")
    rows = [dict(zip([d[0] for d in cursor.description], row)) for row in cursor.fetchall()]
    return patch_rows(rows) if kpi == "patch_incident_correlation" else rows


# ---------------------------------------------------------------------------------------------------------
# Polars: the same definitions as lazy queries over pl.scan_parquet. A LazyFrame used in several branches
# is scanned once (common subplan elimination).

def in_period(column, w):
    return pl.col(column).is_between(w.period_start, w.period_end, closed="left")


def polars_duration(kpi, scan, w):
    start, end, month_of = DURATIONS[kpi]
    incidents = scan("incidents")
    durations = incidents.filter(pl.col(start).is_not_null(), pl.col(end) <= w.as_of, in_period(month_of, w)).select(
        month=pl.col(month_of).dt.truncate("1mo"), priority="priority",
        hours=(pl.col(end) - pl.col(start)).dt.total_microseconds() / US_PER_HOUR)
    hours = pl.col("hours")
    measures = [hours.count().alias("n"), hours.mean().alias("mean_hours"),
                hours.quantile(0.5, interpolation="linear").alias("p50_hours"),
                hours.quantile(0.9, interpolation="linear").alias("p90_hours")]
    no_priority = {"priority": pl.lit(None, pl.Int64)}
    # GROUPING SETS ((month, priority), (month)): the all-priorities row is computed over the incidents.
    stats = pl.concat([
        durations.group_by("month", "priority").agg(measures).with_columns(scope=pl.lit("priority")),
        durations.group_by("month").agg(measures).with_columns(scope=pl.lit("all"), **no_priority),
    ], how="diagonal").with_columns(pl.col("month").dt.strftime("%Y-%m"))
    # mttx's kpi_grid (see the DuckDB query).
    priorities = pl.concat([pl.LazyFrame({"priority": [1, 2, 3, 4, 5]}, schema={"priority": pl.Int64}),
                            incidents.filter(pl.col("opened_at") <= w.as_of).select("priority")]).unique()
    months = pl.LazyFrame({"month": [label for label, _, _ in w.months]})
    grid = pl.concat([months.join(priorities, how="cross").with_columns(scope=pl.lit("priority")),
                      months.with_columns(scope=pl.lit("all"), **no_priority)], how="diagonal")
    return (grid.join(stats, on=["month", "scope", "priority"], how="full", nulls_equal=True, coalesce=True)
            .with_columns(pl.col("n").fill_null(0)))


def polars_mtbf(scan, w):
    # As the DuckDB query: every agreed service time 24x7 (the built-in policy), interval arithmetic on integer
    # microseconds, exact like its epoch_us.
    def us(column):
        return pl.col(column).dt.epoch("us")

    def micros(t):
        return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)

    incidents, cis, outages = scan("incidents"), scan("cis"), scan("outages")
    as_of, we = micros(w.as_of), micros(w.window_end)
    first = incidents.select(us("opened_at").min()).collect().item()

    def clipped(start):
        return min(max(micros(start), first if first is not None else micros(start)), we)

    windows = pl.LazyFrame({"win": ["rolling", "month"], "ws": [clipped(w.rolling_start), clipped(w.month_start)],
                            "we": [we, we]})
    ci_service = cis.select(ci="id", ci_service="service")
    # Outage records as they stood at the cut-off, or else the major incidents (and those of failure_priority and
    # higher, when it is set).
    if outages.select(pl.len()).collect().item() > 0:
        records = (outages.filter(us("begins_at") <= as_of).join(ci_service, on="ci", how="left")
                   .select("type", "ci", service=pl.coalesce("service", "ci_service"), s=us("begins_at"),
                           e=pl.when(us("ends_at") <= as_of).then(us("ends_at"))))
    else:
        fails = pl.col("major").fill_null(False)
        if w.failure_priority is not None:
            fails = fails | (pl.col("priority") <= w.failure_priority).fill_null(False)
        records = (incidents.filter(fails, pl.col("opened_at") <= w.as_of).join(ci_service, on="ci", how="left")
                   .select(type=pl.lit("outage"), ci="ci", service=pl.coalesce("service", "ci_service"),
                           s=pl.coalesce(us("started_at"), us("opened_at")),
                           e=pl.when(us("resolved_at") <= as_of).then(us("resolved_at"))))

    keys = ["scope", "key", "win"]
    spans = pl.concat([
        cis.join(windows, how="cross").select(scope=pl.lit("ci"), key="id", win="win",  # max/min_horizontal skip nulls
                                              os=pl.max_horizontal(us("in_service_from"), "ws"),
                                              oe=pl.min_horizontal(us("in_service_to"), "we")),
        cis.select("service").drop_nulls().unique().join(windows, how="cross")
           .select(scope=pl.lit("service"), key="service", win="win", os="ws", oe="we"),
    ])
    hits = (pl.concat([records.select("type", "s", "e", key=field, scope=pl.lit(scope))
                       for scope, field in (("ci", "ci"), ("service", "service"))])
            .drop_nulls("key").join(windows, how="cross").with_columns(e=pl.coalesce("e", "we"))
            .filter(pl.col("s") < pl.col("we"), pl.col("e") > pl.col("ws"))
            .join(spans, on=keys, how="left")
            .with_columns(os=pl.coalesce("os", "ws"), oe=pl.coalesce("oe", "we")))
    counted = hits.filter(pl.col("s") < pl.col("oe"), pl.col("e") > pl.col("os"))
    # Union of each entity's records of one type in one window, as in SQL: sorted by start, a record begins a new
    # island when it starts after the latest end so far.
    parts = keys + ["type"]
    previous_end = pl.col("e").cum_max().shift(1).over(parts)
    new_island = previous_end.is_null() | (pl.col("s") > previous_end)
    merged = (counted.select(*parts, s=pl.max_horizontal("s", "os"), e=pl.min_horizontal("e", "oe"))
              .filter(pl.col("e") > pl.col("s")).sort(*parts, "s", "e")
              .with_columns(island=new_island.cast(pl.Int64).cum_sum())
              .group_by("island").agg(*[pl.col(c).first() for c in parts], s=pl.col("s").min(), e=pl.col("e").max()))
    unions = merged.sort(*parts, "s").group_by(parts).agg(
        hours=(pl.col("e") - pl.col("s")).sum() / US_PER_HOUR, mean_gap_hours=(pl.col("s").shift(-1) - pl.col("e")).mean() / US_PER_HOUR)
    kind = pl.col("type")
    stats = counted.group_by(keys).agg(os=pl.col("os").max(), oe=pl.col("oe").max(), outages=(kind == "outage").sum(),
                                       degradations=(kind == "degradation").sum(), planned_outages=(kind == "planned").sum())
    observed = (spans.join(stats, on=keys, how="full", coalesce=True)
                .with_columns(os=pl.coalesce("os", "os_right"), oe=pl.coalesce("oe", "oe_right"))
                .filter(pl.col("oe") > pl.col("os")))

    def union_of(type_, **names):
        return unions.filter(kind == type_).select(*keys, **names)

    figures = (observed.join(union_of("outage", down="hours", mean_gap_hours="mean_gap_hours"), on=keys, how="left")
               .join(union_of("degradation", degraded="hours"), on=keys, how="left")
               .join(union_of("planned", planned="hours"), on=keys, how="left")
               .with_columns(pl.col("outages", "degradations", "planned_outages").fill_null(0),
                             pl.col("down", "degraded", "planned").fill_null(0.0),
                             agreed=(pl.col("oe") - pl.col("os")) / US_PER_HOUR))

    def at(win, column):
        return pl.col(column).filter(pl.col("win") == win).max()

    entities = figures.group_by("scope", "key").agg(
        outages=at("rolling", "outages"), agreed_hours=at("rolling", "agreed"), downtime_hours=at("rolling", "down"),
        month_outages=at("month", "outages"), month_agreed_hours=at("month", "agreed"), month_downtime_hours=at("month", "down"),
        degradations=at("rolling", "degradations"), degradation_hours=at("rolling", "degraded"),
        planned_outages=at("rolling", "planned_outages"), planned_hours=at("rolling", "planned"),
        mean_gap_hours=at("rolling", "mean_gap_hours")).filter(pl.col("agreed_hours").is_not_null())
    n, agreed, down = pl.col("outages"), pl.col("agreed_hours"), pl.col("downtime_hours")
    month_agreed, month_down = pl.col("month_agreed_hours"), pl.col("month_downtime_hours")
    return entities.with_columns(
        mtbf_hours=pl.when(n > 0).then((agreed - down) / n), mtbsi_hours=pl.when(n > 0).then(agreed / n),
        mean_outage_hours=pl.when(n > 0).then(down / n), availability=pl.when(agreed > 0).then((agreed - down) / agreed),
        month_availability=pl.when(month_agreed > 0).then((month_agreed - month_down) / month_agreed))


def polars_problem_trend(scan, w):
    def by_month(frame, column, **aggs):
        return (frame.filter(in_period(column, w)).group_by(month=pl.col(column).dt.truncate("1mo"))
                .agg(**aggs).with_columns(pl.col("month").dt.strftime("%Y-%m")))

    incidents = scan("incidents").filter(pl.col("opened_at") <= w.as_of)
    inc = by_month(incidents, "opened_at", incidents=pl.len(), incidents_with_problem=pl.col("problem_id").count())
    # Problems as they stood at the cut-off (see the DuckDB query).
    problems = scan("problems").filter(pl.col("opened_at") <= w.as_of).select(
        "opened_at", *(pl.when(pl.col(c) <= w.as_of).then(pl.col(c)).alias(c) for c in ("resolved_at", "closed_at")))
    opened = by_month(problems, "opened_at", problems_opened=pl.len())
    resolved = by_month(problems, "resolved_at", problems_resolved=pl.len())
    left_queue = by_month(problems.with_columns(left=pl.coalesce("resolved_at", "closed_at")), "left", problems_left_queue=pl.len())
    # The base month: the first that starts at or after the first incident.
    first = incidents.select(pl.col("opened_at").min())
    base_start = first.select(pl.when(pl.col("opened_at").dt.truncate("1mo") == pl.col("opened_at"))
                              .then(pl.col("opened_at").dt.truncate("1mo"))
                              .otherwise(pl.col("opened_at").dt.truncate("1mo").dt.offset_by("1mo")).alias("bs"))
    base = (problems.join(base_start, how="cross")
            .filter(pl.col("opened_at") >= pl.col("bs"), pl.col("opened_at") < pl.col("bs").dt.offset_by("1mo"))
            .select(base_opened=pl.len()))
    cuts = pl.LazyFrame({"month": [m for m, _, _ in w.months], "cut": [min(end, w.as_of) for _, _, end in w.months]},
                        schema={"month": pl.String, "cut": pl.Datetime("us", "UTC")})
    end = pl.coalesce("resolved_at", "closed_at")
    age_days = (pl.col("cut") - pl.col("opened_at")).dt.total_microseconds() / 86_400e6
    open_at_end = (cuts.join(problems.select("opened_at", end=end), how="cross")
                   .filter(pl.col("opened_at") < pl.col("cut"), pl.col("end").is_null() | (pl.col("end") >= pl.col("cut")))
                   .group_by("month").agg(problems_open_at_month_end=pl.len(), mean_open_age_days=age_days.mean(),
                                          p50_open_age_days=age_days.median()))
    monthly = cuts.select("month")
    for part in (inc, opened, resolved, left_queue, open_at_end):
        monthly = monthly.join(part, on="month", how="left")
    monthly = monthly.join(base, how="cross")
    counts = [c for c in SHAPES["problem_trend"].ints if c != "problems_open_at_month_end"]
    base_n = pl.col("base_opened")
    # Counts as Int64: pl.len() is unsigned, and the growth subtracts them. A month with no open
    # problem has a count of 0 and no age.
    return (monthly.with_columns(pl.col(counts).fill_null(0).cast(pl.Int64),
                                 pl.col("problems_open_at_month_end").fill_null(0).cast(pl.Int64)).sort("month").with_columns(
        pct_with_problem=100.0 * pl.col("incidents_with_problem") / pl.when(pl.col("incidents") != 0).then(pl.col("incidents")),
        queue_rate=pl.col("problems_left_queue") / pl.when(pl.col("problems_opened") != 0).then(pl.col("problems_opened")),
        problem_growth_vs_base=100.0 * (pl.col("problems_opened") - base_n) / pl.when(base_n != 0).then(base_n)))


def polars_patch(scan, w):
    patches = scan("changes").filter(
        pl.col("is_patch"), pl.col("outcome").is_in(PATCH_OUTCOMES), pl.col("actual_end") <= w.as_of, in_period("actual_end", w),
    ).select("id", "ci", "actual_end", outcome_group=pl.when(pl.col("outcome").is_in(FAILED_OUTCOMES))
             .then(pl.lit("failed")).otherwise(pl.lit("successful")))
    incidents = scan("incidents")
    later = (incidents.filter(pl.col("ci").is_not_null(), pl.col("opened_at") <= w.as_of, pl.col("opened_at") > w.period_start)
             .select("ci", next_opened="opened_at").sort("next_opened"))
    # The first incident on the CI opened strictly after the patch ended (see the DuckDB query).
    nearest = patches.sort("actual_end").join_asof(
        later, left_on="actual_end", right_on="next_opened", by="ci", strategy="forward", allow_exact_matches=False,
        check_sortedness=False)  # both sides are sorted just above; Polars cannot check that with `by`
    linked = (incidents.filter(pl.col("opened_at") <= w.as_of).select(id="caused_by_change").drop_nulls().unique()
              .with_columns(linked=pl.lit(True)))
    gap = (pl.col("next_opened") - pl.col("actual_end")).dt.total_microseconds()
    return nearest.join(linked, on="id", how="left").group_by("outcome_group").agg(
        patches=pl.len(), followed_by_incident=(gap <= w.correlation_window_hours * US_PER_HOUR).sum(),
        caused_by_link=pl.col("linked").sum())


POLARS_QUERIES = {**{kpi: functools.partial(polars_duration, kpi) for kpi in DURATIONS}, "mtbf": polars_mtbf,
                  "problem_trend": polars_problem_trend, "patch_incident_correlation": polars_patch}


def run_polars(kpi, data, w, want_rows):
    global pl
    import polars as pl

    def scan(table):
        path = Path(data) / f"{table}.parquet"
        if table == "outages" and not path.exists():  # optional, as in mttx: absent reads as empty
            return pl.LazyFrame(schema={"id": pl.String, "ci": pl.String, "service": pl.String, "type": pl.String,
                                        "begins_at": pl.Datetime("us", "UTC"), "ends_at": pl.Datetime("us", "UTC"),
                                        "task_id": pl.String})
        return pl.scan_parquet(path)

    frame = POLARS_QUERIES[kpi](scan, w).collect()
    if kpi == "patch_incident_correlation":
        return patch_rows(frame.to_dicts())
    return frame.to_dicts() if want_rows else None


# ---------------------------------------------------------------------------------------------------------
# Shared by both engines.

def patch_rows(counts):
    """The two outcome-group rows from the engine's counts, with rate, lift and p_value as mttx's final SELECT."""
    by_group = {row["outcome_group"]: row for row in counts}
    rows = []
    for group in ("failed", "successful"):  # both rows, even with no patches
        row = {column: int(by_group.get(group, {}).get(column) or 0) for column in SHAPES["patch_incident_correlation"].ints}
        rows.append({"outcome_group": group, **row,
                     "rate": row["followed_by_incident"] / row["patches"] if row["patches"] else None})
    failed, successful = rows
    lift = failed["rate"] / successful["rate"] if failed["rate"] is not None and successful["rate"] else None
    p_value = fisher_exact_p(failed["followed_by_incident"], failed["patches"] - failed["followed_by_incident"],
                             successful["followed_by_incident"], successful["patches"] - successful["followed_by_incident"])
    lift_low, lift_high = katz_interval(failed["followed_by_incident"], failed["patches"],
                                        successful["followed_by_incident"], successful["patches"])
    return [{**row, "lift": lift, "lift_low": lift_low, "lift_high": lift_high, "p_value": p_value} for row in rows]


def katz_interval(a, n1, c, n2, z=1.959963984540054):
    """The 95% interval of the ratio (a/n1) / (c/n2) by Katz's log method, 0.5 added to each cell when one
    is zero, as mttx's final SELECT computes it; None for a group without patches."""
    if not n1 or not n2:
        return None, None
    k = 0.5 if 0 in (a, n1 - a, c, n2 - c) else 0.0
    ln_lift = math.log(((a + k) / (n1 + 2 * k)) / ((c + k) / (n2 + 2 * k)))
    se = math.sqrt(1 / (a + k) - 1 / (n1 + 2 * k) + 1 / (c + k) - 1 / (n2 + 2 * k))
    return math.exp(ln_lift - z * se), math.exp(ln_lift + z * se)


def fisher_exact_p(a, b, c, d):
    """Two-sided Fisher exact p of [[a, b], [c, d]], step for step as mttx's fisher_exact_p (src/functions/fisher_exact_p.rs):
    the same log-factorial table and summation order give the same floats."""
    r1, r2, c1 = a + b, c + d, a + c
    ln_fact = list(itertools.accumulate((math.log(k) for k in range(1, a + b + c + d + 1)), initial=0.0))

    def ln_choose(n, k):
        return ln_fact[n] - ln_fact[k] - ln_fact[n - k]

    def ln_p(x):
        return ln_choose(r1, x) + ln_choose(r2, c1 - x) - ln_choose(r1 + r2, c1)

    threshold, p = ln_p(a) + math.log1p(1e-7), 0.0
    for x in range(max(c1 - r2, 0), min(r1, c1) + 1):
        if (lp := ln_p(x)) <= threshold:
            p += math.exp(lp)  # a plain running sum, as Rust's Iterator::sum (Python's sum() compensates from 3.12)
    return min(p, 1.0)


def normalise(kpi, rows):
    shape = SHAPES[kpi]

    def cell(row, column, kind):
        if column not in row:
            sys.exit(f"{kpi}: the result has no column {column} (it has {', '.join(row)})")
        return None if row[column] is None else kind(row[column])

    out = [{**{k: cell(row, k, lambda v: v) for k in shape.keys}, **{k: cell(row, k, int) for k in shape.ints},
            **{k: cell(row, k, float) for k in shape.floats}} for row in rows]
    out.sort(key=lambda row: tuple((row[k] is None, row[k] if row[k] is not None else 0) for k in shape.keys))
    return {"kpi": kpi, "keys": list(shape.keys), "rows": out}


def mttx_rows(kpi, path):
    doc = json.loads(Path(path).read_text())
    for entry in doc.get("kpis", []):
        if entry["id"] == kpi:
            if tuple(entry["keys"]) != SHAPES[kpi].keys:
                sys.exit(f"{kpi}: mttx's keys {entry['keys']} are not {list(SHAPES[kpi].keys)}; run mttx without --by")
            return entry["rows"]
    sys.exit(f"{path} has no result for {kpi}; errors: {doc.get('errors')}")


def compare(a_path, b_path, show=10):
    a, b = (json.loads(Path(p).read_text()) for p in (a_path, b_path))
    if a["kpi"] != b["kpi"] or a["keys"] != b["keys"]:
        print(f"different KPIs or keys: {a['kpi']} {a['keys']} vs {b['kpi']} {b['keys']}")
        return 1
    shape = SHAPES[a["kpi"]]
    index_a, index_b = ({tuple(row[k] for k in shape.keys): row for row in doc["rows"]} for doc in (a, b))
    differences = [f"row {key} only in {a_path}" for key in index_a if key not in index_b]
    differences += [f"row {key} only in {b_path}" for key in index_b if key not in index_a]
    for key in index_a.keys() & index_b.keys():
        for column in shape.ints + shape.floats:
            x, y = index_a[key].get(column), index_b[key].get(column)
            exact = x is None or y is None or column in shape.ints
            if not (x == y if exact else abs(x - y) <= 1e-9 * max(1.0, abs(x))):
                differences.append(f"row {key}: {column} {x!r} != {y!r}")
    if differences:
        print(f"{a['kpi']}: {len(differences)} difference(s) between {a_path} and {b_path}")
        print("\n".join(f"  {d}" for d in sorted(differences)[:show]))
        return 1
    print(f"{a['kpi']}: {len(index_a)} rows equal")
    return 0


def time_in_process(engine, kpi, data, as_of, spans):
    """Seconds of each period's query in this process, after the engine's import, and the process's peak
    resident memory (MiB) at the end."""
    runner = {"duckdb": run_duckdb, "polars": run_polars}[engine]
    __import__(engine)
    seconds = []
    for first, last in spans:
        w = make_window(as_of, first, last)
        start = time.perf_counter()
        runner(kpi, data, w, want_rows=False)
        seconds.append(time.perf_counter() - start)
    return {"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# What a store does to each table that DuckDB's COPY can do too: keep one row per id (the latest
# updated_at, where the table has one), sort by the table's sort column then id (src/model.rs
# Table::sort_field), and write LZ4_RAW in row groups of 65,536 rows (src/store/writer.rs).
STORE_SORT = {"incidents": "opened_at", "problems": "opened_at", "changes": "actual_end", "events": "at",
              "outages": "begins_at", "cis": "id"}
STORE_WRITE = "FORMAT parquet, COMPRESSION lz4_raw, ROW_GROUP_SIZE 65536"


def copy_query(con, source, target, like_store):
    """DuckDB's COPY of one file to Parquet: plain, or as a store writes it."""
    quoted = str(source).replace("'", "''")
    reader = f"read_csv('{quoted}')" if source.suffix == ".csv" else f"read_parquet('{quoted}')"
    out = str(target).replace("'", "''")
    if not like_store:
        return f"COPY (SELECT * FROM {reader}) TO '{out}' (FORMAT parquet)"
    columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()}
    keys = [c for c in (STORE_SORT.get(source.stem), "id") if c in columns]
    quoted_keys = [f'"{c}" NULLS LAST' for c in dict.fromkeys(keys)]
    order = f" ORDER BY {', '.join(quoted_keys)}" if keys else ""
    latest = ' ORDER BY "updated_at" DESC NULLS LAST' if "updated_at" in columns else ""
    dedup = f' QUALIFY row_number() OVER (PARTITION BY "id"{latest}) = 1' if "id" in columns else ""
    return f"COPY (SELECT * FROM {reader}{dedup}{order}) TO '{out}' ({STORE_WRITE})"


def copy_in_process(sources, out, runs, like_store):
    """Seconds of each run's COPY of all `sources` in this process, after DuckDB's import, one new
    connection per run, and the process's peak resident memory (MiB)."""
    import duckdb

    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        con = duckdb.connect()
        for source in sources:
            con.execute(copy_query(con, Path(source), Path(out) / f"{Path(source).stem}.parquet", like_store))
        con.close()
        seconds.append(time.perf_counter() - start)
    return {"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


DESCRIPTIONS = {
    "mttr": "full definition: n, mean and exact p50/p90 per month x priority and per month over all priorities, "
            "with mttx's empty month x priority grid",
    "mtbf": "full definition on the built-in policy (every service 24x7): outage records or major incidents, rolling "
            "and month windows clipped to the data and each CI's service span, unions of outages, degradations and "
            "planned outages (gaps and islands), outages, MTBF, MTBSI, availability and mean gap",
    "problem_trend": "full definition: monthly incidents and those with a problem, problems opened, resolved, "
                     "leaving the queue and open at each month's cut with their mean and median age, the queue rate, "
                     "and growth against the base month (the first month starting at or after the first incident)",
    "patch_incident_correlation": "full definition: patches per outcome group, followed by an incident on the CI within "
                                  "the window (ASOF join to the next incident) and caused_by links; rate, lift and Fisher "
                                  "p_value in Python from the engine's two rows of counts",
}
DESCRIPTIONS["mtta"] = DESCRIPTIONS["mttd"] = DESCRIPTIONS["mttr"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="compute one KPI in one engine")
    run.add_argument("--engine", required=True, choices=("duckdb", "polars"))
    for flag, dest, help in (("--kpi", "kpi", None), ("--data", "data", "directory of canonical Parquet files"),
                             ("--as-of", "as_of", "cut-off, RFC 3339"), ("--from", "first", "YYYY-MM"),
                             ("--to", "last", "YYYY-MM")):
        run.add_argument(flag, dest=dest, required=True, help=help)
    run.add_argument("--window-hours", type=int, default=72, help="as mttx kpi --window-hours")
    run.add_argument("--failure-priority", type=int, help="as mttx kpi --failure-priority (default: major incidents only)")
    run.add_argument("--availability-months", type=int, default=12, help="as mttx kpi --availability-months")
    run.add_argument("--out")
    timing = sub.add_parser("time", help="time one KPI in one engine in this process, once per period")
    timing.add_argument("--engine", required=True, choices=("duckdb", "polars"))
    for flag, dest in (("--kpi", "kpi"), ("--data", "data"), ("--as-of", "as_of")):
        timing.add_argument(flag, dest=dest, required=True)
    timing.add_argument("--periods", required=True, help="FROM:TO months, comma-separated, one run each")
    copy = sub.add_parser("copy", help="time DuckDB's COPY of files to Parquet in this process")
    copy.add_argument("--out", required=True, help="directory for the copies")
    copy.add_argument("--runs", type=int, default=3)
    copy.add_argument("--like-store", action="store_true",
                      help="one row per id, sorted by the store's sort key, LZ4_RAW in 65,536-row groups")
    copy.add_argument("sources", nargs="+")
    mttx = sub.add_parser("mttx", help="normalise the output of mttx kpi --format json")
    mttx.add_argument("--kpi", required=True, choices=sorted(SHAPES))
    mttx.add_argument("--json", required=True)
    mttx.add_argument("--out", required=True)
    cmp = sub.add_parser("compare", help="exit 0 when two normalised results agree")
    cmp.add_argument("a")
    cmp.add_argument("b")
    sub.add_parser("describe", help="what each KPI and engine computes and times")
    args = parser.parse_args()

    if args.command == "run":
        runner, implemented = {"duckdb": (run_duckdb, DUCK_QUERIES), "polars": (run_polars, POLARS_QUERIES)}[args.engine]
        if args.kpi not in implemented:
            print(f"the {args.engine} peer does not implement {args.kpi}; it has {', '.join(sorted(implemented))}",
                  file=sys.stderr)
            return EXIT_NOT_IMPLEMENTED
        w = make_window(args.as_of, args.first, args.last, args.window_hours, args.failure_priority, args.availability_months)
        rows = runner(args.kpi, args.data, w, want_rows=args.out is not None)
        if args.out:
            Path(args.out).write_text(json.dumps(normalise(args.kpi, rows), allow_nan=False))
    elif args.command == "time":
        spans = [tuple(period.split(":")) for period in args.periods.split(",")]
        print(json.dumps(time_in_process(args.engine, args.kpi, args.data, args.as_of, spans)))
    elif args.command == "copy":
        print(json.dumps(copy_in_process(args.sources, args.out, args.runs, args.like_store)))
    elif args.command == "mttx":
        Path(args.out).write_text(json.dumps(normalise(args.kpi, mttx_rows(args.kpi, args.json)), allow_nan=False))
    elif args.command == "compare":
        return compare(args.a, args.b)
    else:
        for kpi in SHAPES:
            for engine in ("duckdb", "polars"):
                print(f"{kpi:28} {engine:7} {DESCRIPTIONS[kpi]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
