-- title: Reopen rate
-- unit: ratio
-- better: lower
-- grain: month; --by: × the field
-- keys: month, by_group
-- measures: reopen_rate
-- n: measured
-- significance: reopen_rate = proportion(reopened, measured)
-- headline: reopen_rate = Reopened
-- settles: 14 days
-- definition: Of the incidents resolved in a month (resolved_at in the calendar month, reporting time
--   zone, at or before the cut-off), the share with reopen_count > 0. resolved counts them all;
--   unknown counts those with no reopen_count, which are left out of the rate (the same rule as in
--   first_contact_resolution); measured = resolved − unknown is the denominator, and reopen_rate =
--   reopened / measured, null when measured is 0. Every month of the period appears. With --by FIELD,
--   the figures are cut by the incident's FIELD as well (incidents with none form their own group,
--   null), and only the months and groups with resolved incidents appear. A month settles 14 days
--   after it ends, the window in which a resolved incident is commonly reopened: until then its rows
--   are provisional, as reopens of its last incidents can still arrive.
WITH resolved AS (
    SELECT report_month(i.resolved_at) AS month, i.by_group, i.reopen_count > 0 AS reopened
    FROM incidents i CROSS JOIN params p
    WHERE i.resolved_at IS NOT NULL AND i.resolved_at <= p.as_of
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
),
stats AS (
    SELECT month, by_group,
           count(*) AS resolved,
           count(*) - count(reopened) AS unknown,
           count(reopened) AS measured,
           count(CASE WHEN reopened THEN 1 END) AS reopened
    FROM resolved
    GROUP BY month, by_group
)
SELECT coalesce(g.month, s.month) AS month,
       coalesce(g.by_group, s.by_group) AS by_group,
       coalesce(s.resolved, 0) AS resolved,
       coalesce(s.unknown, 0) AS unknown,
       coalesce(s.measured, 0) AS measured,
       coalesce(s.reopened, 0) AS reopened,
       CAST(s.reopened AS DOUBLE) / nullif(s.measured, 0) AS reopen_rate
FROM (SELECT month, by_group FROM kpi_grid WHERE scope = 'all') g
FULL JOIN stats s ON s.month = g.month AND (s.by_group IS NOT DISTINCT FROM g.by_group)
ORDER BY month, by_group NULLS LAST
