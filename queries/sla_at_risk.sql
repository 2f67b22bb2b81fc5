-- title: SLA clocks running at the cut-off
-- unit: ratio
-- better: lower
-- grain: running SLA clock
-- keys: id, sla
-- measures: elapsed_share
-- window: cut-off
-- definition: One row per SLA clock still running at the cut-off and not yet breached, of the
--   incidents whose priority has targets in the SLA policy: the response and resolution clocks of
--   sla_breach, with the same start (opened_at), stop, calendar and pauses, that have not stopped
--   at or before the cut-off and whose time so far is at most the target. elapsed_hours is the
--   clock's business time from opened_at to the cut-off on the calendar the policy names for the
--   priority, less its pauses (a pause that has not ended by the cut-off lasts to it);
--   elapsed_share = elapsed_hours / target_hours; band is the share of the target elapsed: under
--   50%, 50-75%, 75-90% or 90-100% (each band includes its lower bound). paused is true when the
--   ticket is in a pause state at the cut-off. deadline is the instant the clock reaches its target
--   if it runs on from the cut-off without another pause. With the incident's priority, service,
--   category and opened_at. Ordered by deadline, then id and SLA.
WITH running AS (
    SELECT i.id, i.priority, i.service, i.category, i.opened_at, c.sla, t.calendar, p.as_of,
           CASE WHEN c.sla = 'response' THEN t.response_hours ELSE t.resolution_hours END AS target
    FROM incidents i
    JOIN sla_targets t ON t.priority = i.priority
    CROSS JOIN (VALUES ('response'), ('resolution')) AS c(sla)
    CROSS JOIN params p
    WHERE i.opened_at <= p.as_of
      -- The same condition, loosened to one the Parquet reader can test against each row
      -- group's maximum and null count (it cannot see through coalesce and CASE), so a store of
      -- ten years reads the row groups that can hold a running clock, not every incident.
      AND (i.resolved_at IS NULL OR i.resolved_at > p.as_of OR i.acknowledged_at > p.as_of)
      AND NOT coalesce(CASE WHEN c.sla = 'response' THEN coalesce(i.acknowledged_at, i.resolved_at) ELSE i.resolved_at END <= p.as_of, false)
),
state_changes AS (
    -- The running clocks' tickets come first, as the join's build side (as in sla_breach).
    SELECT e.ticket_id, e.at, e.to_value, p.as_of,
           lead(e.at) OVER (PARTITION BY e.ticket_id ORDER BY e.at, e.id) AS next_at
    FROM (SELECT DISTINCT id FROM running) r
    JOIN events e ON e.ticket_id = r.id
    CROSS JOIN params p
    WHERE lower(e.field) = 'state' AND e.at <= p.as_of
),
pauses AS (
    SELECT s.ticket_id,
           array_agg(named_struct('start', s.at, 'end', coalesce(s.next_at, s.as_of))) AS pauses,
           bool_or(s.next_at IS NULL) AS paused
    FROM state_changes s
    JOIN sla_pause_states ps ON ps.state = s.to_value
    GROUP BY s.ticket_id
),
evaluated AS (
    SELECT r.id, r.sla, r.priority, r.service, r.category, r.opened_at, r.target,
           coalesce(pz.paused, false) AS paused,
           sla_running_hours(r.opened_at, r.as_of, r.calendar, pz.pauses) AS elapsed,
           sla_deadline(r.opened_at, r.target, r.calendar, pz.pauses) AS deadline
    FROM pauses pz
    RIGHT JOIN running r ON pz.ticket_id = r.id
)
SELECT id, sla, priority, service, category, opened_at, paused,
       target AS target_hours, elapsed AS elapsed_hours, elapsed / target AS elapsed_share,
       CASE WHEN elapsed / target >= 0.9 THEN '90-100%'
            WHEN elapsed / target >= 0.75 THEN '75-90%'
            WHEN elapsed / target >= 0.5 THEN '50-75%'
            ELSE 'under 50%' END AS band,
       deadline
FROM evaluated
WHERE elapsed <= target
ORDER BY deadline, id, CASE sla WHEN 'response' THEN 1 ELSE 2 END
