-- title: Change failure rate
-- unit: ratio
-- better: lower
-- grain: month
-- keys: month
-- measures: change_failure_rate, emergency_share
-- n: changes
-- significance: change_failure_rate = proportion(failed_or_caused, changes);
--   emergency_share = proportion(emergency, changes)
-- headline: change_failure_rate = Change failure rate; emergency_share = Emergency changes
-- definition: Over changes with an outcome other than cancelled, counted in the calendar month
--   (reporting time zone) of their actual_end, or actual_start where there is no actual_end, at or
--   before the cut-off: changes counts them, patches those with is_patch, failed those with outcome
--   failed or backed_out, caused_incident those named in some incident's caused_by_change, and
--   failed_or_caused those that did either. change_failure_rate is failed_or_caused / changes (null
--   when changes = 0). emergency counts those of type emergency, and emergency_share = emergency /
--   changes (null when changes = 0): the share of emergency changes among the changes done in the
--   month. Cancelled changes, and changes with no outcome yet, are excluded.
WITH caused AS (
    SELECT DISTINCT caused_by_change AS id FROM incidents WHERE caused_by_change IS NOT NULL
),
done AS (
    SELECT report_month(coalesce(c.actual_end, c.actual_start)) AS month,
           coalesce(c.is_patch, false) AS is_patch,
           c.type = 'emergency' AS emergency,
           c.outcome IN ('failed', 'backed_out') AS failed,
           k.id IS NOT NULL AS caused_incident
    FROM changes c CROSS JOIN params p
    LEFT JOIN caused k ON k.id = c.id
    WHERE c.outcome IS NOT NULL AND c.outcome <> 'cancelled'
      AND coalesce(c.actual_end, c.actual_start) <= p.as_of
      AND coalesce(c.actual_end, c.actual_start) >= p.period_start
      AND coalesce(c.actual_end, c.actual_start) < p.period_end
)
SELECT m.month,
       count(d.month) AS changes,
       count(CASE WHEN d.is_patch THEN 1 END) AS patches,
       count(CASE WHEN d.failed THEN 1 END) AS failed,
       count(CASE WHEN d.caused_incident THEN 1 END) AS caused_incident,
       count(CASE WHEN d.failed OR d.caused_incident THEN 1 END) AS failed_or_caused,
       CAST(count(CASE WHEN d.failed OR d.caused_incident THEN 1 END) AS DOUBLE) / nullif(count(d.month), 0) AS change_failure_rate,
       count(CASE WHEN d.emergency THEN 1 END) AS emergency,
       CAST(count(CASE WHEN d.emergency THEN 1 END) AS DOUBLE) / nullif(count(d.month), 0) AS emergency_share
FROM months m LEFT JOIN done d ON d.month = m.month
GROUP BY m.month
ORDER BY m.month
