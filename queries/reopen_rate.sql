-- title: Reopen rate
-- unit: ratio
-- better: lower
-- grain: month
-- keys: month
-- measures: reopen_rate
-- n: resolved
-- significance: reopen_rate = proportion(reopened, resolved)
-- definition: Of the incidents resolved in a month (resolved_at in the calendar month, reporting time
--   zone, at or before the cut-off), the share with reopen_count > 0. An incident with no reopen_count
--   counts as not reopened. resolved is the denominator; reopen_rate is null when it is 0.
WITH resolved AS (
    SELECT report_month(i.resolved_at) AS month, coalesce(i.reopen_count, 0) > 0 AS reopened
    FROM incidents i CROSS JOIN params p
    WHERE i.resolved_at IS NOT NULL AND i.resolved_at <= p.as_of
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
)
SELECT m.month,
       count(r.reopened) AS resolved,
       count(CASE WHEN r.reopened THEN 1 END) AS reopened,
       CAST(count(CASE WHEN r.reopened THEN 1 END) AS DOUBLE) / nullif(count(r.reopened), 0) AS reopen_rate
FROM months m LEFT JOIN resolved r ON r.month = m.month
GROUP BY m.month
ORDER BY m.month
