-- title: Problem resolution time
-- unit: hours
-- better: lower
-- grain: month × milestone
-- keys: month, milestone
-- measures: mean_hours, p50_hours, p90_hours
-- significance: mean_hours = mean(durations.hours); p50_hours = quantile(durations.hours, 0.5);
--   p90_hours = quantile(durations.hours, 0.9)
-- definition: Over the problems resolved in the month (resolved_at in the calendar month, reporting
--   time zone, at or before the cut-off): milestone resolved is resolved_at − opened_at, and
--   milestone known_error is known_error_at − opened_at for those of them that became known errors
--   (known_error_at at or before the cut-off), in hours. Both count in the month of resolution, so
--   the two rows of a month speak of the same problems. Every month of the period appears with both
--   milestones; n is the number of problems, and mean_hours, p50_hours and p90_hours are null when n
--   = 0. Percentiles are exact, with continuous interpolation.
WITH resolved AS (
    SELECT report_month(pr.resolved_at) AS month, pr.opened_at, pr.resolved_at,
           CASE WHEN pr.known_error_at <= p.as_of THEN pr.known_error_at END AS known_error_at
    FROM problems pr CROSS JOIN params p
    WHERE pr.resolved_at IS NOT NULL AND pr.resolved_at <= p.as_of
      AND pr.resolved_at >= p.period_start AND pr.resolved_at < p.period_end
),
milestones AS (
    SELECT month, 'known_error' AS milestone, CAST(known_error_at AS BIGINT) - CAST(opened_at AS BIGINT) AS micros
    FROM resolved WHERE known_error_at IS NOT NULL
    UNION ALL
    SELECT month, 'resolved' AS milestone, CAST(resolved_at AS BIGINT) - CAST(opened_at AS BIGINT) AS micros
    FROM resolved
),
durations AS (
    SELECT month, milestone, micros, micros / 3600000000.0 AS hours FROM milestones
)
-- A mean adds whole microseconds as exact integers: the same sum in any order, so it does not
-- depend on how the rows were split between files and partitions.
SELECT g.month, g.milestone,
       count(d.hours) AS n,
       exact_mean(d.micros) / 3600000000.0 AS mean_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d.hours) AS p50_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY d.hours) AS p90_hours
FROM (SELECT m.month, s.milestone FROM months m CROSS JOIN (VALUES ('known_error'), ('resolved')) AS s(milestone)) g
LEFT JOIN durations d ON d.month = g.month AND d.milestone = g.milestone
GROUP BY g.month, g.milestone
ORDER BY g.month, g.milestone
