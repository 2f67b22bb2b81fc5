-- title: Open incident backlog
-- unit: incidents
-- better: lower
-- grain: month × priority, and month over all priorities (scope); --by: × the field
-- keys: month, by_group, scope, priority
-- measures: open_incidents
-- n: open_incidents
-- headline: open_incidents = Open backlog
-- definition: The number of incidents open at the end of each month: opened before the month's end
--   and not resolved by then (resolved_at null or at or after the month's end). Month ends are
--   midnight at the start of the next month in the reporting time zone; for the month that holds
--   the cut-off, the count is taken at the cut-off instead. Rows with scope priority give each
--   priority: every month of the period appears for priorities 1 to 5 (and any other priority in
--   the data; a null priority is the group of incidents with none), with 0 where nothing was open.
--   One row per month with scope all (priority null) counts the open incidents of every priority.
--   With --by FIELD, every count is cut by the incident's FIELD as well (incidents with none form
--   their own group, null), and only the months and groups with open incidents appear.
WITH cuts AS (
    SELECT m.month, CASE WHEN m.month_end > p.as_of THEN p.as_of ELSE m.month_end END AS cut
    FROM months m CROSS JOIN params p
),
open_at_cut AS (
    SELECT c.month, i.by_group,
           CASE WHEN grouping(i.priority) = 1 THEN 'all' ELSE 'priority' END AS scope,
           i.priority, count(*) AS open_incidents
    FROM cuts c JOIN incidents i
      ON i.opened_at < c.cut AND (i.resolved_at IS NULL OR i.resolved_at >= c.cut)
    GROUP BY GROUPING SETS ((c.month, i.by_group, i.priority), (c.month, i.by_group))
)
SELECT coalesce(g.month, o.month) AS month,
       coalesce(g.by_group, o.by_group) AS by_group,
       coalesce(g.scope, o.scope) AS scope,
       coalesce(g.priority, o.priority) AS priority,
       coalesce(o.open_incidents, 0) AS open_incidents
FROM kpi_grid g
FULL JOIN open_at_cut o ON o.month = g.month AND (o.by_group IS NOT DISTINCT FROM g.by_group) AND o.scope = g.scope
                        AND (o.priority IS NOT DISTINCT FROM g.priority)
ORDER BY month, by_group NULLS LAST, scope, priority NULLS LAST
