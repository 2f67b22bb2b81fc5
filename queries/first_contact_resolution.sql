-- title: First-contact resolution
-- unit: ratio
-- better: higher
-- grain: month; --by: × the field
-- keys: month, by_group
-- measures: fcr_rate, first_group_rate
-- n: measured
-- significance: fcr_rate = proportion(first_contact, measured); first_group_rate = proportion(resolved_by_first_group, first_group_measured)
-- headline: fcr_rate = First-contact resolution
-- definition: Of the incidents resolved in a month (resolved_at in the calendar month, reporting time
--   zone, at or before the cut-off), leaving out those raised by machines: an incident whose
--   contact_type is one of the SLA policy's [first_contact] monitoring_contact_types (default
--   monitoring, event, alert; matched trimmed and ignoring case) is counted in monitoring and in
--   nothing else. resolved counts the rest. fcr_rate is the share resolved at first contact: an
--   incident whose first_contact field is set (a profile maps the source's first-line flag or tier
--   to it) is decided by that flag, and by_flag counts them; otherwise, where the policy names
--   [first_contact] service_desk_groups, it was resolved at first contact when its
--   assignment_group is one of them (trimmed, ignoring case), and it was never reassigned and never
--   reopened; desk_resolved counts those resolved by those groups. An incident neither a flag nor
--   the service desk rule can decide (no groups named, or its group or either count missing) is
--   unknown: counted in unknown and left out of the rate. measured = resolved − unknown, and
--   fcr_rate = first_contact / measured, null when measured is 0 or when no incident of the row
--   has a flag or a service desk group (the groups named match none). first_group_rate is the
--   share resolved by the first group assigned, never reassigned and never reopened, over the
--   first_group_measured incidents that have both counts (resolved_by_first_group of them): a
--   different indicator, given whatever the flags and groups. Every month of the period appears.
--   With --by FIELD, the figures are cut by the incident's FIELD as well (incidents with none form
--   their own group, null), and only the months and groups with resolved incidents appear.
WITH resolved AS (
    SELECT report_month(i.resolved_at) AS month, i.by_group,
           mc.contact_type IS NOT NULL AS monitoring,
           i.first_contact IS NOT NULL AS flagged,
           sd.group_name IS NOT NULL AS by_desk,
           CASE WHEN i.reassignment_count IS NULL OR i.reopen_count IS NULL THEN NULL
                ELSE i.reassignment_count = 0 AND i.reopen_count = 0 END AS first_group,
           CASE WHEN i.first_contact IS NOT NULL THEN i.first_contact
                WHEN d.groups = 0 OR i.assignment_group IS NULL OR i.reassignment_count IS NULL OR i.reopen_count IS NULL THEN NULL
                ELSE sd.group_name IS NOT NULL AND i.reassignment_count = 0 AND i.reopen_count = 0 END AS first_contact
    FROM incidents i
    CROSS JOIN params p
    CROSS JOIN (SELECT count(*) AS groups FROM fcr_service_desk_groups) d
    LEFT JOIN fcr_service_desk_groups sd ON sd.group_name = lower(trim(i.assignment_group))
    LEFT JOIN monitoring_contact_types mc ON mc.contact_type = lower(trim(i.contact_type))
    WHERE i.resolved_at IS NOT NULL AND i.resolved_at <= p.as_of
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
),
stats AS (
    SELECT month, by_group,
           count(CASE WHEN monitoring THEN 1 END) AS monitoring,
           count(CASE WHEN NOT monitoring THEN 1 END) AS resolved,
           count(CASE WHEN NOT monitoring AND first_contact IS NULL THEN 1 END) AS unknown,
           count(CASE WHEN NOT monitoring AND first_contact IS NOT NULL THEN 1 END) AS measured,
           count(CASE WHEN NOT monitoring AND first_contact THEN 1 END) AS first_contact,
           count(CASE WHEN NOT monitoring AND flagged THEN 1 END) AS by_flag,
           count(CASE WHEN NOT monitoring AND by_desk THEN 1 END) AS desk_resolved,
           count(CASE WHEN NOT monitoring AND first_group IS NOT NULL THEN 1 END) AS first_group_measured,
           count(CASE WHEN NOT monitoring AND first_group THEN 1 END) AS resolved_by_first_group
    FROM resolved
    GROUP BY month, by_group
)
SELECT coalesce(g.month, s.month) AS month,
       coalesce(g.by_group, s.by_group) AS by_group,
       coalesce(s.resolved, 0) AS resolved,
       coalesce(s.monitoring, 0) AS monitoring,
       coalesce(s.unknown, 0) AS unknown,
       coalesce(s.measured, 0) AS measured,
       coalesce(s.first_contact, 0) AS first_contact,
       CASE WHEN s.by_flag + s.desk_resolved > 0 THEN CAST(s.first_contact AS DOUBLE) / nullif(s.measured, 0) END AS fcr_rate,
       coalesce(s.by_flag, 0) AS by_flag,
       coalesce(s.desk_resolved, 0) AS desk_resolved,
       coalesce(s.first_group_measured, 0) AS first_group_measured,
       coalesce(s.resolved_by_first_group, 0) AS resolved_by_first_group,
       CAST(s.resolved_by_first_group AS DOUBLE) / nullif(s.first_group_measured, 0) AS first_group_rate
FROM (SELECT month, by_group FROM kpi_grid WHERE scope = 'all') g
FULL JOIN stats s ON s.month = g.month AND (s.by_group IS NOT DISTINCT FROM g.by_group)
ORDER BY month, by_group NULLS LAST
