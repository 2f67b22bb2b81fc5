-- title: Incidents caused by changes
-- unit: ratio
-- better: lower
-- grain: month
-- keys: month
-- measures: caused_share
-- n: incidents
-- significance: caused_share = proportion(caused_by_change, incidents)
-- headline: caused_share = Incidents caused by changes
-- settles: 30 days
-- definition: Of the incidents opened in the month (opened_at in the calendar month, reporting time
--   zone, at or before the cut-off): incidents counts them, caused_by_change those that name a change
--   in caused_by_change, and caused_share = caused_by_change / incidents (null when there are none).
--   majors counts the incidents with major = true, and major_caused_by_change the major ones among
--   those caused by a change. Every month of the period appears. A month settles 30 days after it
--   ends: the link to the causing change is often made in the review after the incident, so until
--   then its rows are provisional.
WITH opened AS (
    SELECT report_month(i.opened_at) AS month, i.caused_by_change IS NOT NULL AS caused, coalesce(i.major, false) AS major
    FROM incidents i CROSS JOIN params p
    WHERE i.opened_at <= p.as_of AND i.opened_at >= p.period_start AND i.opened_at < p.period_end
)
SELECT m.month,
       count(o.month) AS incidents,
       count(CASE WHEN o.caused THEN 1 END) AS caused_by_change,
       CAST(count(CASE WHEN o.caused THEN 1 END) AS DOUBLE) / nullif(count(o.month), 0) AS caused_share,
       count(CASE WHEN o.major THEN 1 END) AS majors,
       count(CASE WHEN o.caused AND o.major THEN 1 END) AS major_caused_by_change
FROM months m LEFT JOIN opened o ON o.month = m.month
GROUP BY m.month
ORDER BY m.month
