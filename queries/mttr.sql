-- title: Mean time to resolve (MTTR)
-- unit: hours
-- better: lower
-- grain: month × priority
-- keys: month, priority
-- measures: mean_hours, p50_hours, p90_hours
-- significance: mean_hours, p50_hours, p90_hours = rank(durations.hours)
-- definition: resolved_at − opened_at, in hours, over incidents resolved at or before the cut-off.
--   Unresolved incidents are excluded. An incident counts in the calendar month, in the reporting time
--   zone, of its resolved_at. Every month of the period appears for
--   priorities 1 to 5 (and for any other priority in the data); n is the number of incidents, and
--   mean_hours, p50_hours and p90_hours are null when n = 0. Percentiles are exact, with continuous
--   interpolation.
WITH durations AS (
    SELECT report_month(i.resolved_at) AS month,
           i.priority,
           (extract(epoch FROM i.resolved_at) - extract(epoch FROM i.opened_at)) / 3600.0 AS hours
    FROM incidents i CROSS JOIN params p
    WHERE i.resolved_at IS NOT NULL
      AND i.resolved_at <= p.as_of
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
)
SELECT g.month, g.priority,
       count(d.hours) AS n,
       avg(d.hours) AS mean_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d.hours) AS p50_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY d.hours) AS p90_hours
FROM month_priority g
LEFT JOIN durations d ON d.month = g.month AND (d.priority IS NOT DISTINCT FROM g.priority)
GROUP BY g.month, g.priority
ORDER BY g.month, g.priority NULLS LAST
