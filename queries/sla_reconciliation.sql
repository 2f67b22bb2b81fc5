-- title: SLA reconciliation with the source tool
-- unit: ratio
-- better: higher
-- grain: month × priority, and month over all priorities (scope)
-- keys: month, scope, priority
-- measures: agreement
-- n: compared
-- definition: How often the source tool's own SLA flag (source_made_sla) agrees with mttx's
--   resolution-clock verdict, and why they differ where they do.
--   The incidents compared are those resolved in the month (resolved_at at or before the cut-off,
--   in the calendar month of resolved_at in the reporting time zone) whose priority has a
--   resolution target in the SLA policy and whose source_made_sla is known. mttx's verdict is
--   sla_breach's resolution clock: business time from opened_at to resolved_at on the calendar the
--   policy names for the priority, less the pauses, met when at most the target. A disagreement is
--   put down to the first of these that, changed alone, gives the source's verdict: pauses (the
--   clock without its pauses), calendar (the clock on the 24x7 calendar, with its pauses), calendar
--   and pauses (the wall-clock time from opened_at to resolved_at), clock stopped (the clock
--   stopped at closed_at, when closed at or before the cut-off, instead of resolved_at); otherwise
--   target or other (no one of these explains it: the source is likely on another target).
--   compared counts the incidents; source_missed those the source flags as missed
--   (source_made_sla false); mttx_breached those whose mttx clock breached; agreed those where the
--   two verdicts are the same; agreement = agreed / compared, null when compared = 0. by_pauses,
--   by_calendar, by_calendar_and_pauses, by_clock_stopped and by_target_or_other count the
--   disagreements by cause. Rows with scope priority give each priority that has a target in the
--   policy, for every month of the period, with 0 where none were compared; one row per month with
--   scope all (priority null) pools them. Only months and priorities with a mapped
--   source_made_sla are of use: with none mapped, every count is 0.
WITH compared AS (
    -- The incidents resolved in the period whose source flag is known and whose priority has a target.
    SELECT i.id, i.priority, i.opened_at, i.resolved_at, i.source_made_sla, t.calendar,
           t.resolution_hours AS target, p.as_of,
           CASE WHEN i.closed_at <= p.as_of AND i.closed_at >= i.resolved_at THEN i.closed_at END AS closed_at
    FROM incidents i
    JOIN sla_targets t ON t.priority = i.priority
    CROSS JOIN params p
    WHERE i.source_made_sla IS NOT NULL
      AND i.resolved_at <= p.as_of
      AND i.resolved_at >= p.period_start AND i.resolved_at < p.period_end
),
state_changes AS (
    -- The compared tickets come first, as the join's build side (as in sla_breach).
    SELECT e.ticket_id, e.at, e.to_value, p.as_of,
           lead(e.at) OVER (PARTITION BY e.ticket_id ORDER BY e.at, e.id) AS next_at
    FROM compared c
    JOIN events e ON e.ticket_id = c.id
    CROSS JOIN params p
    WHERE lower(e.field) = 'state' AND e.at <= p.as_of
),
pauses AS (
    SELECT s.ticket_id, array_agg(named_struct('start', s.at, 'end', coalesce(s.next_at, s.as_of))) AS pauses
    FROM state_changes s
    JOIN sla_pause_states ps ON ps.state = s.to_value
    GROUP BY s.ticket_id
),
clocks AS (
    SELECT c.id, c.priority, c.resolved_at, c.closed_at, c.source_made_sla, c.target,
           sla_running_hours(c.opened_at, c.resolved_at, c.calendar, pz.pauses) AS hours,
           business_hours(c.opened_at, c.resolved_at, c.calendar) AS unpaused_hours,
           sla_running_hours(c.opened_at, c.resolved_at, '24x7', pz.pauses) AS round_the_clock_hours,
           (extract(epoch FROM c.resolved_at) - extract(epoch FROM c.opened_at)) / 3600.0 AS wall_hours,
           sla_running_hours(c.opened_at, c.closed_at, c.calendar, pz.pauses) AS to_close_hours
    FROM pauses pz
    RIGHT JOIN compared c ON pz.ticket_id = c.id
),
verdicts AS (
    SELECT id, priority, resolved_at, closed_at, source_made_sla, target, hours, wall_hours,
           report_month(resolved_at) AS month,
           hours <= target AS mttx_met,
           CASE WHEN (hours <= target) = source_made_sla THEN NULL
                WHEN (unpaused_hours <= target) = source_made_sla THEN 'pauses'
                WHEN (round_the_clock_hours <= target) = source_made_sla THEN 'calendar'
                WHEN (wall_hours <= target) = source_made_sla THEN 'calendar and pauses'
                WHEN (to_close_hours <= target) = source_made_sla THEN 'clock stopped'
                ELSE 'target or other' END AS cause
    FROM clocks
)
,
stats AS (
    SELECT month,
           CASE WHEN grouping(priority) = 1 THEN 'all' ELSE 'priority' END AS scope,
           priority,
           count(*) AS compared,
           count(CASE WHEN NOT source_made_sla THEN 1 END) AS source_missed,
           count(CASE WHEN NOT mttx_met THEN 1 END) AS mttx_breached,
           count(CASE WHEN cause IS NULL THEN 1 END) AS agreed,
           count(CASE WHEN cause = 'pauses' THEN 1 END) AS by_pauses,
           count(CASE WHEN cause = 'calendar' THEN 1 END) AS by_calendar,
           count(CASE WHEN cause = 'calendar and pauses' THEN 1 END) AS by_calendar_and_pauses,
           count(CASE WHEN cause = 'clock stopped' THEN 1 END) AS by_clock_stopped,
           count(CASE WHEN cause = 'target or other' THEN 1 END) AS by_target_or_other
    FROM verdicts
    GROUP BY GROUPING SETS ((month, priority), (month))
),
grid AS (
    SELECT m.month, 'priority' AS scope, t.priority FROM months m CROSS JOIN sla_targets t
    UNION ALL
    SELECT m.month, 'all' AS scope, CAST(NULL AS BIGINT) AS priority FROM months m
)
SELECT g.month, g.scope, g.priority,
       coalesce(s.compared, 0) AS compared,
       coalesce(s.source_missed, 0) AS source_missed,
       coalesce(s.mttx_breached, 0) AS mttx_breached,
       coalesce(s.agreed, 0) AS agreed,
       CAST(s.agreed AS DOUBLE) / nullif(s.compared, 0) AS agreement,
       coalesce(s.by_pauses, 0) AS by_pauses,
       coalesce(s.by_calendar, 0) AS by_calendar,
       coalesce(s.by_calendar_and_pauses, 0) AS by_calendar_and_pauses,
       coalesce(s.by_clock_stopped, 0) AS by_clock_stopped,
       coalesce(s.by_target_or_other, 0) AS by_target_or_other
FROM grid g
LEFT JOIN stats s ON s.month = g.month AND s.scope = g.scope AND (s.priority IS NOT DISTINCT FROM g.priority)
ORDER BY g.month, g.scope, g.priority NULLS LAST
