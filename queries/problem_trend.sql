-- title: Incident-to-problem trend
-- unit: count
-- better: lower
-- grain: month
-- keys: month
-- measures: incidents (neutral), problems_open_at_month_end
-- n: incidents; problems_open_at_month_end = problems_open_at_month_end
-- significance: incidents = poisson(incidents)
-- headline: pct_with_problem = Incidents with a problem; problem_growth_vs_base = Problems opened, growth
-- settles: 30 days
-- definition: Per calendar month (reporting time zone): incidents is the number of incidents opened in
--   the month, and incidents_with_problem those of them with a problem_id; pct_with_problem is 100 ×
--   incidents_with_problem / incidents (null when incidents = 0). problems_opened counts problems whose
--   opened_at is in the month; problems_resolved those whose resolved_at is in the month;
--   problems_left_queue those that left the queue in the month: at resolved_at, or at closed_at when
--   there is none, as problems_open_at_month_end counts them; queue_rate is problems_left_queue /
--   problems_opened (null when none opened): above 1 the queue shrinks.
--   problems_open_at_month_end counts those opened before the month's end (or the cut-off, for the
--   month that holds it) and neither resolved nor closed by then; mean_open_age_days and
--   p50_open_age_days are the mean and median of their ages then, in days (null when none is open).
--   problem_growth_vs_base is 100 × (problems_opened − base_opened) / base_opened, where base_opened
--   counts the problems opened in the base month (problem_base_month, shown as base_month): by
--   default the first calendar month that starts at or after the data's first incident, so a month's
--   value does not depend on the window; null when the base month had none. Only timestamps at or
--   before the cut-off count. incidents is workload, so its direction is neutral; fewer problems open
--   at month end is better. A month settles 30 days after it ends: an incident is often linked to
--   its problem weeks later, so until then its rows are provisional.
WITH cuts AS (
    SELECT m.month, m.month_start, CASE WHEN m.month_end > p.as_of THEN p.as_of ELSE m.month_end END AS cut
    FROM months m CROSS JOIN params p
),
inc AS (
    SELECT report_month(i.opened_at) AS month,
           count(*) AS incidents,
           count(i.problem_id) AS incidents_with_problem
    FROM incidents i CROSS JOIN params p
    WHERE i.opened_at >= p.period_start AND i.opened_at < p.period_end AND i.opened_at <= p.as_of
    GROUP BY 1
),
opened AS (
    SELECT report_month(pr.opened_at) AS month, count(*) AS problems_opened
    FROM problems pr CROSS JOIN params p
    WHERE pr.opened_at >= p.period_start AND pr.opened_at < p.period_end AND pr.opened_at <= p.as_of
    GROUP BY 1
),
resolved AS (
    SELECT report_month(pr.resolved_at) AS month, count(*) AS problems_resolved
    FROM problems pr CROSS JOIN params p
    WHERE pr.resolved_at >= p.period_start AND pr.resolved_at < p.period_end AND pr.resolved_at <= p.as_of
    GROUP BY 1
),
left_queue AS (
    SELECT report_month(coalesce(pr.resolved_at, pr.closed_at)) AS month, count(*) AS problems_left_queue
    FROM problems pr CROSS JOIN params p
    WHERE coalesce(pr.resolved_at, pr.closed_at) >= p.period_start AND coalesce(pr.resolved_at, pr.closed_at) < p.period_end
      AND coalesce(pr.resolved_at, pr.closed_at) <= p.as_of
    GROUP BY 1
),
open_at_end AS (
    -- The mean adds whole microseconds of age as exact integers: the same sum in any order, so it
    -- does not depend on how the rows were split between files and partitions.
    SELECT c.month, count(pr.id) AS problems_open_at_month_end,
           exact_mean(CAST(c.cut AS BIGINT) - CAST(pr.opened_at AS BIGINT)) / 86400000000.0 AS mean_open_age_days,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY (CAST(c.cut AS BIGINT) - CAST(pr.opened_at AS BIGINT)) / 86400000000.0) AS p50_open_age_days
    FROM cuts c LEFT JOIN problems pr
      ON pr.opened_at < c.cut AND coalesce(pr.resolved_at, pr.closed_at) IS NULL
      OR pr.opened_at < c.cut AND coalesce(pr.resolved_at, pr.closed_at) >= c.cut
    GROUP BY c.month
),
base AS (
    SELECT count(*) AS base_opened
    FROM problems pr CROSS JOIN params p
    WHERE pr.opened_at >= p.problem_base_start AND pr.opened_at < p.problem_base_end AND pr.opened_at <= p.as_of
),
monthly AS (
    SELECT m.month,
           coalesce(inc.incidents, 0) AS incidents,
           coalesce(inc.incidents_with_problem, 0) AS incidents_with_problem,
           coalesce(o.problems_opened, 0) AS problems_opened,
           coalesce(r.problems_resolved, 0) AS problems_resolved,
           coalesce(lq.problems_left_queue, 0) AS problems_left_queue,
           e.problems_open_at_month_end, e.mean_open_age_days, e.p50_open_age_days
    FROM months m
    LEFT JOIN inc ON inc.month = m.month
    LEFT JOIN opened o ON o.month = m.month
    LEFT JOIN resolved r ON r.month = m.month
    LEFT JOIN left_queue lq ON lq.month = m.month
    LEFT JOIN open_at_end e ON e.month = m.month
)
SELECT month, incidents, incidents_with_problem,
       100.0 * incidents_with_problem / nullif(incidents, 0) AS pct_with_problem,
       problems_opened, problems_resolved, problems_left_queue,
       CAST(problems_left_queue AS DOUBLE) / nullif(problems_opened, 0) AS queue_rate,
       problems_open_at_month_end, mean_open_age_days, p50_open_age_days,
       p.problem_base_month AS base_month, b.base_opened,
       100.0 * (problems_opened - b.base_opened) / nullif(b.base_opened, 0) AS problem_growth_vs_base
FROM monthly CROSS JOIN base b CROSS JOIN params p
ORDER BY month
