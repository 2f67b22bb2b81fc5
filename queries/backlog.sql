-- title: Open incident backlog
-- unit: incidents
-- better: lower
-- grain: month × priority
-- keys: month, priority
-- measures: open_incidents
-- n: open_incidents
-- definition: The number of incidents open at the end of each month: opened before the month's end
--   and not resolved by then (resolved_at null or at or after the month's end). Month ends are midnight
--   at the start of the next month in the reporting time zone; for the month that holds the cut-off,
--   the count is taken at the cut-off instead. Every month of the period appears for priorities 1 to 5
--   (and any other priority in the data), with 0 where nothing was open.
WITH cuts AS (
    SELECT m.month, CASE WHEN m.month_end > p.as_of THEN p.as_of ELSE m.month_end END AS cut
    FROM months m CROSS JOIN params p
),
open_at_cut AS (
    SELECT c.month, i.priority, count(*) AS open_incidents
    FROM cuts c JOIN incidents i
      ON i.opened_at < c.cut AND (i.resolved_at IS NULL OR i.resolved_at >= c.cut)
    GROUP BY c.month, i.priority
)
SELECT g.month, g.priority, coalesce(o.open_incidents, 0) AS open_incidents
FROM month_priority g
LEFT JOIN open_at_cut o ON o.month = g.month AND (o.priority IS NOT DISTINCT FROM g.priority)
ORDER BY g.month, g.priority NULLS LAST
