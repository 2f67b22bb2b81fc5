-- title: Major incidents
-- unit: incidents
-- better: lower
-- grain: month
-- keys: month
-- measures: major_incidents, mean_hours_to_resolve, p50_hours_to_resolve, p90_hours_to_resolve
-- n: major_incidents
-- significance: major_incidents = poisson(major_incidents);
--   mean_hours_to_resolve, p50_hours_to_resolve, p90_hours_to_resolve = rank(majors.hours)
-- definition: major_incidents is the number of incidents with major = true opened in the month (opened_at
--   in the calendar month, reporting time zone, at or before the cut-off). Their time to resolve,
--   resolved_at − opened_at in hours, is summarised over those of them resolved at or before the
--   cut-off: n_resolved, mean_hours_to_resolve, p50_hours_to_resolve and p90_hours_to_resolve (exact,
--   continuous interpolation; null when n_resolved = 0). Incidents with major null count as not major.
WITH majors AS (
    SELECT report_month(i.opened_at) AS month,
           CASE WHEN i.resolved_at IS NOT NULL AND i.resolved_at <= p.as_of
                THEN (extract(epoch FROM i.resolved_at) - extract(epoch FROM i.opened_at)) / 3600.0 END AS hours
    FROM incidents i CROSS JOIN params p
    WHERE i.major AND i.opened_at <= p.as_of
      AND i.opened_at >= p.period_start AND i.opened_at < p.period_end
)
SELECT m.month,
       count(mi.month) AS major_incidents,
       count(mi.hours) AS n_resolved,
       avg(mi.hours) AS mean_hours_to_resolve,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY mi.hours) AS p50_hours_to_resolve,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY mi.hours) AS p90_hours_to_resolve
FROM months m LEFT JOIN majors mi ON mi.month = m.month
GROUP BY m.month
ORDER BY m.month
