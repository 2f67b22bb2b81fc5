-- title: Reassignments per incident
-- unit: reassignments
-- better: lower
-- grain: month
-- keys: month
-- measures: mean_reassignments, p90_reassignments
-- significance: mean_reassignments = mean(resolved.reassignments); p90_reassignments = quantile(resolved.reassignments, 0.9)
-- headline: mean_reassignments = Reassignments, mean
-- definition: reassignment_count of the incidents resolved in a month (resolved_at in the calendar month,
--   reporting time zone, at or before the cut-off) that have a reassignment_count. n is the number of
--   those incidents; mean_reassignments and p90_reassignments (exact, continuous interpolation) are null
--   when n = 0.
WITH resolved AS (
    SELECT report_month(i.resolved_at) AS month, CAST(i.reassignment_count AS DOUBLE) AS reassignments
    FROM incidents i CROSS JOIN params p
    WHERE i.resolved_at IS NOT NULL AND i.resolved_at <= p.as_of AND i.reassignment_count IS NOT NULL
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
)
SELECT m.month,
       count(r.reassignments) AS n,
       avg(r.reassignments) AS mean_reassignments,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY r.reassignments) AS p90_reassignments
FROM months m LEFT JOIN resolved r ON r.month = m.month
GROUP BY m.month
ORDER BY m.month
