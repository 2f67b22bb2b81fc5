-- title: SLA disagreements with the source tool
-- unit: hours
-- better: lower
-- grain: incident whose verdicts disagree
-- keys: month, id
-- measures: hours
-- definition: One row per incident on which the source tool's own SLA flag (source_made_sla) and
--   mttx's resolution-clock verdict disagree, the disagreements sla_reconciliation counts.
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
--   With the month, priority, resolved_at, closed_at (null unless closed at or before the
--   cut-off), source_made_sla, mttx_met, cause, target_hours, hours (mttx's clock) and wall_hours
--   (resolved_at − opened_at). Ordered by month, cause, priority and id.
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

SELECT month, id, priority, resolved_at, closed_at, source_made_sla, mttx_met, cause,
       target AS target_hours, hours, wall_hours
FROM verdicts
WHERE cause IS NOT NULL
ORDER BY month, cause, priority, id
