-- title: Incident-to-problem trend
-- unit: count
-- better: lower
-- grain: month
-- keys: month
-- measures: incidents (neutral), problems_open_at_month_end
-- n: incidents
-- significance: incidents = poisson(incidents)
-- window: whole
-- headline: pct_with_problem = Incidents with a problem; problem_growth_vs_first_month = Problems opened, growth
-- definition: Per calendar month (reporting time zone): incidents is the number of incidents opened in
--   the month, and incidents_with_problem those of them with a problem_id; pct_with_problem is 100 ×
--   incidents_with_problem / incidents (null when incidents = 0). problems_opened counts problems whose
--   opened_at is in the month; problems_resolved those whose resolved_at is in the month;
--   problems_open_at_month_end those opened before the month's end (or the cut-off, for the month that
--   holds it) and neither resolved nor closed by then. problem_growth_vs_first_month is 100 ×
--   (problems_opened − problems opened in the period's first month) / problems opened in the first month,
--   null when the first month had none. Only timestamps at or before the cut-off count. incidents is
--   workload, so its direction is neutral; fewer problems open at month end is better.
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
open_at_end AS (
    SELECT c.month, count(pr.id) AS problems_open_at_month_end
    FROM cuts c LEFT JOIN problems pr
      ON pr.opened_at < c.cut AND coalesce(pr.resolved_at, pr.closed_at) IS NULL
      OR pr.opened_at < c.cut AND coalesce(pr.resolved_at, pr.closed_at) >= c.cut
    GROUP BY c.month
),
monthly AS (
    SELECT m.month,
           coalesce(inc.incidents, 0) AS incidents,
           coalesce(inc.incidents_with_problem, 0) AS incidents_with_problem,
           coalesce(o.problems_opened, 0) AS problems_opened,
           coalesce(r.problems_resolved, 0) AS problems_resolved,
           e.problems_open_at_month_end
    FROM months m
    LEFT JOIN inc ON inc.month = m.month
    LEFT JOIN opened o ON o.month = m.month
    LEFT JOIN resolved r ON r.month = m.month
    LEFT JOIN open_at_end e ON e.month = m.month
)
SELECT month, incidents, incidents_with_problem,
       100.0 * incidents_with_problem / nullif(incidents, 0) AS pct_with_problem,
       problems_opened, problems_resolved, problems_open_at_month_end,
       100.0 * (problems_opened - first_value(problems_opened) OVER (ORDER BY month))
             / nullif(first_value(problems_opened) OVER (ORDER BY month), 0) AS problem_growth_vs_first_month
FROM monthly
ORDER BY month
