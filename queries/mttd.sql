-- title: Mean time to detect (MTTD)
-- unit: hours
-- better: lower
-- grain: month × priority, and month over all priorities (scope); --by: × the field
-- keys: month, by_group, scope, priority
-- measures: mean_hours, p50_hours, p90_hours
-- significance: mean_hours = mean(durations.hours); p50_hours = quantile(durations.hours, 0.5);
--   p90_hours = quantile(durations.hours, 0.9)
-- headline: p50_hours = MTTD p50
-- definition: opened_at − started_at, in hours, over incidents that have a started_at (when the
--   degradation began). Incidents without a started_at are excluded. An incident counts in the
--   calendar month, in the reporting time zone, of its opened_at. Rows with scope priority give
--   each priority: every month of the period appears for priorities 1 to 5 (and for any other
--   priority in the data; a null priority is the group of incidents with none). One row per month
--   with scope all (priority null) pools the incidents of every priority; its figures are computed
--   over those incidents, never from the per-priority figures. With --by FIELD, every figure is cut
--   by the incident's FIELD as well (incidents with none form their own group, null), and only the
--   months and groups that have incidents appear. n is the number of incidents, and mean_hours,
--   p50_hours and p90_hours are null when n = 0. Percentiles are exact, with continuous
--   interpolation.
WITH durations AS (
    SELECT report_month(i.opened_at) AS month,
           i.by_group,
           i.priority,
           CAST(i.opened_at AS BIGINT) - CAST(i.started_at AS BIGINT) AS micros,
           (CAST(i.opened_at AS BIGINT) - CAST(i.started_at AS BIGINT)) / 3600000000.0 AS hours
    FROM incidents i CROSS JOIN params p
    WHERE i.started_at IS NOT NULL
      AND i.opened_at <= p.as_of
      AND i.opened_at >= p.period_start AND i.opened_at < p.period_end
),
stats AS (
    -- A mean adds whole microseconds as exact integers: the same sum in any order, so it does not
    -- depend on how the rows were split between files and partitions.
    SELECT month, by_group,
           CASE WHEN grouping(priority) = 1 THEN 'all' ELSE 'priority' END AS scope,
           priority,
           count(hours) AS n,
           exact_mean(micros) / 3600000000.0 AS mean_hours,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50_hours,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90_hours
    FROM durations
    GROUP BY GROUPING SETS ((month, by_group, priority), (month, by_group))
)
SELECT coalesce(g.month, s.month) AS month,
       coalesce(g.by_group, s.by_group) AS by_group,
       coalesce(g.scope, s.scope) AS scope,
       coalesce(g.priority, s.priority) AS priority,
       coalesce(s.n, 0) AS n,
       s.mean_hours, s.p50_hours, s.p90_hours
FROM kpi_grid g
FULL JOIN stats s ON s.month = g.month AND (s.by_group IS NOT DISTINCT FROM g.by_group) AND s.scope = g.scope
                 AND (s.priority IS NOT DISTINCT FROM g.priority)
ORDER BY month, by_group NULLS LAST, scope, priority NULLS LAST
