-- title: First-contact resolution
-- unit: ratio
-- better: higher
-- grain: month; --by: × the field
-- keys: month, by_group
-- measures: fcr_rate
-- n: measured
-- significance: fcr_rate = proportion(first_contact, measured)
-- headline: fcr_rate = First-contact resolution
-- definition: Of the incidents resolved in a month (resolved_at in the calendar month, reporting time
--   zone, at or before the cut-off), the share resolved at first contact. An incident whose
--   first_contact field is set (a profile maps the source's first-line flag or tier to it) is decided
--   by that flag; by_flag counts them. Otherwise it was resolved at first contact when it was never
--   reassigned and never reopened (reassignment_count = 0 and reopen_count = 0). An incident with
--   neither the flag nor both counts is unknown: it is counted in unknown and left out of the rate
--   (the same rule as in reopen_rate). resolved counts all resolved incidents; measured = resolved −
--   unknown is the denominator, and fcr_rate = first_contact / measured, null when measured is 0.
--   Every month of the period appears. With --by FIELD, the figures are cut by the incident's FIELD as
--   well (incidents with none form their own group, null), and only the months and groups with
--   resolved incidents appear.
WITH resolved AS (
    SELECT report_month(i.resolved_at) AS month, i.by_group,
           i.first_contact IS NOT NULL AS flagged,
           CASE WHEN i.first_contact IS NOT NULL THEN i.first_contact
                WHEN i.reassignment_count IS NULL OR i.reopen_count IS NULL THEN NULL
                ELSE i.reassignment_count = 0 AND i.reopen_count = 0 END AS first_contact
    FROM incidents i CROSS JOIN params p
    WHERE i.resolved_at IS NOT NULL AND i.resolved_at <= p.as_of
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
),
stats AS (
    SELECT month, by_group,
           count(*) AS resolved,
           count(*) - count(first_contact) AS unknown,
           count(first_contact) AS measured,
           count(CASE WHEN first_contact THEN 1 END) AS first_contact,
           count(CASE WHEN flagged THEN 1 END) AS by_flag
    FROM resolved
    GROUP BY month, by_group
)
SELECT coalesce(g.month, s.month) AS month,
       coalesce(g.by_group, s.by_group) AS by_group,
       coalesce(s.resolved, 0) AS resolved,
       coalesce(s.unknown, 0) AS unknown,
       coalesce(s.measured, 0) AS measured,
       coalesce(s.first_contact, 0) AS first_contact,
       CAST(s.first_contact AS DOUBLE) / nullif(s.measured, 0) AS fcr_rate,
       coalesce(s.by_flag, 0) AS by_flag
FROM (SELECT month, by_group FROM kpi_grid WHERE scope = 'all') g
FULL JOIN stats s ON s.month = g.month AND (s.by_group IS NOT DISTINCT FROM g.by_group)
ORDER BY month, by_group NULLS LAST
