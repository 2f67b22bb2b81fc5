-- title: Major incidents
-- unit: incidents
-- better: lower
-- grain: month
-- keys: month
-- measures: major_incidents, problem_share (higher), mean_hours_to_acknowledge, p50_hours_to_acknowledge, p90_hours_to_acknowledge, mean_hours_to_detect, p50_hours_to_detect, p90_hours_to_detect, mean_hours_to_resolve, p50_hours_to_resolve, p90_hours_to_resolve
-- n: major_incidents
-- settles: 30 days
-- significance: major_incidents = poisson(major_incidents);
--   problem_share = proportion(with_problem, major_incidents);
--   mean_hours_to_acknowledge = mean(majors.hours_to_acknowledge); p50_hours_to_acknowledge = quantile(majors.hours_to_acknowledge, 0.5);
--   p90_hours_to_acknowledge = quantile(majors.hours_to_acknowledge, 0.9);
--   mean_hours_to_detect = mean(majors.hours_to_detect); p50_hours_to_detect = quantile(majors.hours_to_detect, 0.5);
--   p90_hours_to_detect = quantile(majors.hours_to_detect, 0.9);
--   mean_hours_to_resolve = mean(majors.hours_to_resolve); p50_hours_to_resolve = quantile(majors.hours_to_resolve, 0.5);
--   p90_hours_to_resolve = quantile(majors.hours_to_resolve, 0.9)
-- headline: major_incidents = Major incidents
-- definition: The incidents with major = true opened in the month (opened_at in the calendar month,
--   reporting time zone, at or before the cut-off); incidents with major null count as not major.
--   Every figure counts in the month the major incident was opened. major_incidents counts them;
--   with_problem those with a problem_id, and problem_share = with_problem / major_incidents (null
--   when there are none). Time to acknowledge, acknowledged_at − opened_at, over those acknowledged at
--   or before the cut-off (n_acknowledged); time to detect, opened_at − started_at, over those with a
--   started_at (n_detected); time to resolve, resolved_at − opened_at, over those resolved at or before
--   the cut-off (n_resolved); each in hours as mean, p50 and p90 (exact, continuous interpolation;
--   null when its n is 0). mttx kpi --only major_incident_list lists each one. A major incident
--   should get a problem record (a root-cause analysis), so a higher problem_share is better; for
--   the count and the times, lower is. A month settles 30 days after it ends: the problem record
--   of a major incident, and the resolution of a long one, often come weeks later, so until then
--   its rows are provisional.
WITH major_micros AS (
    SELECT report_month(i.opened_at) AS month,
           i.problem_id IS NOT NULL AS with_problem,
           CASE WHEN i.acknowledged_at <= p.as_of
                THEN CAST(i.acknowledged_at AS BIGINT) - CAST(i.opened_at AS BIGINT) END AS micros_to_acknowledge,
           CAST(i.opened_at AS BIGINT) - CAST(i.started_at AS BIGINT) AS micros_to_detect,
           CASE WHEN i.resolved_at <= p.as_of
                THEN CAST(i.resolved_at AS BIGINT) - CAST(i.opened_at AS BIGINT) END AS micros_to_resolve
    FROM incidents i CROSS JOIN params p
    WHERE i.major AND i.opened_at <= p.as_of
      AND i.opened_at >= p.period_start AND i.opened_at < p.period_end
),
majors AS (
    SELECT month, with_problem,
           micros_to_acknowledge, micros_to_acknowledge / 3600000000.0 AS hours_to_acknowledge,
           micros_to_detect, micros_to_detect / 3600000000.0 AS hours_to_detect,
           micros_to_resolve, micros_to_resolve / 3600000000.0 AS hours_to_resolve
    FROM major_micros
)
-- A mean adds whole microseconds as exact integers: the same sum in any order, so it does not
-- depend on how the rows were split between files and partitions.
SELECT m.month,
       count(mi.month) AS major_incidents,
       count(CASE WHEN mi.with_problem THEN 1 END) AS with_problem,
       CAST(count(CASE WHEN mi.with_problem THEN 1 END) AS DOUBLE) / nullif(count(mi.month), 0) AS problem_share,
       count(mi.hours_to_acknowledge) AS n_acknowledged,
       exact_mean(mi.micros_to_acknowledge) / 3600000000.0 AS mean_hours_to_acknowledge,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY mi.hours_to_acknowledge) AS p50_hours_to_acknowledge,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY mi.hours_to_acknowledge) AS p90_hours_to_acknowledge,
       count(mi.hours_to_detect) AS n_detected,
       exact_mean(mi.micros_to_detect) / 3600000000.0 AS mean_hours_to_detect,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY mi.hours_to_detect) AS p50_hours_to_detect,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY mi.hours_to_detect) AS p90_hours_to_detect,
       count(mi.hours_to_resolve) AS n_resolved,
       exact_mean(mi.micros_to_resolve) / 3600000000.0 AS mean_hours_to_resolve,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY mi.hours_to_resolve) AS p50_hours_to_resolve,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY mi.hours_to_resolve) AS p90_hours_to_resolve
FROM months m LEFT JOIN majors mi ON mi.month = m.month
GROUP BY m.month
ORDER BY m.month
