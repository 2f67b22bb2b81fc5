-- title: Time with each assignment group
-- unit: business hours
-- better: lower
-- grain: month × assignment group × priority, and month × group over all priorities (scope)
-- keys: month, assignment_group, scope, priority
-- measures: p50_hours, mean_hours, within_ola (higher)
-- n: incidents; within_ola = ola_judged
-- significance: within_ola = proportion(within, ola_judged)
-- definition: How long each assignment group held the incidents resolved in the month
--   (resolved_at at or before the cut-off, in the calendar month of resolved_at in the reporting
--   time zone) whose priority has targets in the SLA policy. The group that holds an incident
--   changes at each event of field assignment_group before resolved_at, to the event's to_value;
--   before its first such event it is that event's from_value (or, where that is empty, its
--   to_value); an incident with no such event was held throughout by its assignment_group. Each
--   spell runs from its change (or opened_at) to the next change (or resolved_at) and counts
--   business time on the calendar the policy names for the priority, less the pauses of
--   sla_breach (a spell with no time is left out). A group's time on an incident is the sum of its
--   spells, to the microsecond. incidents counts the incidents the group held; mean_hours and p50_hours (exact, with
--   continuous interpolation) are over each incident's time with the group. The OLA is the
--   policy's [ola] hours for the group and priority (group names match without case or outer
--   spaces; "*" is every group without its own); ola_judged counts the incidents with an OLA, within
--   those whose time with the group is at most it, and within_ola = within / ola_judged, null when
--   ola_judged = 0. Rows with scope priority give each group and priority that held an incident;
--   one row per month and group with scope all (priority null) pools them, each incident judged
--   against its own priority's OLA, so a group's share within its OLA does not depend on its
--   priority mix. Incidents without a group form the group null.
WITH resolved AS (
    SELECT i.id, i.priority, i.opened_at, i.resolved_at, i.assignment_group, t.calendar,
           report_month(i.resolved_at) AS month
    FROM incidents i
    JOIN sla_targets t ON t.priority = i.priority
    CROSS JOIN params p
    WHERE i.resolved_at <= p.as_of
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
),
changes AS (
    -- The resolved incidents come first, as the join's build side.
    SELECT r.id, e.at, e.from_value, e.to_value,
           row_number() OVER (PARTITION BY r.id ORDER BY e.at, e.id) AS k,
           lead(e.at) OVER (PARTITION BY r.id ORDER BY e.at, e.id) AS next_at
    FROM resolved r
    JOIN events e ON e.ticket_id = r.id
    WHERE lower(e.field) = 'assignment_group' AND e.at < r.resolved_at
),
spells AS (
    SELECT r.id, coalesce(c.from_value, c.to_value) AS group_name, r.opened_at AS start_at, c.at AS end_at
    FROM resolved r JOIN changes c ON c.id = r.id AND c.k = 1
    UNION ALL
    SELECT r.id, c.to_value, greatest(c.at, r.opened_at), coalesce(c.next_at, r.resolved_at)
    FROM resolved r JOIN changes c ON c.id = r.id
    UNION ALL
    SELECT r.id, r.assignment_group, r.opened_at, r.resolved_at
    FROM resolved r LEFT ANTI JOIN (SELECT DISTINCT id FROM changes) c ON c.id = r.id
),
state_changes AS (
    SELECT e.ticket_id, e.at, e.to_value, p.as_of,
           lead(e.at) OVER (PARTITION BY e.ticket_id ORDER BY e.at, e.id) AS next_at
    FROM resolved r
    JOIN events e ON e.ticket_id = r.id
    CROSS JOIN params p
    WHERE lower(e.field) = 'state' AND e.at <= p.as_of
),
pauses AS (
    SELECT s.ticket_id, array_agg(named_struct('start', s.at, 'end', coalesce(s.next_at, s.as_of))) AS pauses
    FROM state_changes s
    JOIN sla_pause_states ps ON ps.state = s.to_value
    GROUP BY s.ticket_id
),
held AS (
    -- Summed in whole microseconds: integers add up the same in any order, so the result does not
    -- depend on how the spells were partitioned.
    SELECT r.month, r.id, r.priority, s.group_name,
           sum(CAST(round(sla_running_hours(s.start_at, s.end_at, r.calendar, pz.pauses) * 3600000000.0) AS BIGINT)) AS micros
    FROM spells s
    JOIN resolved r ON r.id = s.id
    LEFT JOIN pauses pz ON pz.ticket_id = s.id
    WHERE s.end_at > s.start_at
    GROUP BY r.month, r.id, r.priority, s.group_name
),
judged AS (
    SELECT h.*, h.micros / 3600000000.0 AS hours, coalesce(own.ola_hours, any_group.ola_hours) AS ola_hours
    FROM held h
    LEFT JOIN ola_targets own ON own.group_name = lower(trim(h.group_name)) AND own.priority = h.priority
    LEFT JOIN ola_targets any_group ON any_group.group_name = '*' AND any_group.priority = h.priority
)
SELECT month, group_name AS assignment_group,
       CASE WHEN grouping(priority) = 1 THEN 'all' ELSE 'priority' END AS scope,
       priority,
       count(*) AS incidents,
       exact_mean(micros) / 3600000000.0 AS mean_hours,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50_hours,
       count(ola_hours) AS ola_judged,
       count(CASE WHEN hours <= ola_hours THEN 1 END) AS within,
       CAST(count(CASE WHEN hours <= ola_hours THEN 1 END) AS DOUBLE) / nullif(count(ola_hours), 0) AS within_ola
FROM judged
GROUP BY GROUPING SETS ((month, group_name, priority), (month, group_name))
ORDER BY month, assignment_group NULLS LAST, scope, priority NULLS LAST
