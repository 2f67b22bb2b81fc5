-- title: SLA breaches
-- unit: hours
-- better: lower
-- grain: breached SLA clock
-- keys: month, id, sla
-- measures: elapsed_hours
-- definition: One row per SLA clock that breached in the period, the clocks sla_breach counts as
--   breached: the response or resolution clock of an incident whose priority has targets in the
--   SLA policy, with sla_breach's start, stop, calendar and pauses, under the calendar month,
--   reporting time zone, of the instant it passed its target (breached_at). opened_at,
--   stopped_at (acknowledgement or resolution, null while the clock still runs at the cut-off),
--   target_hours and elapsed_hours (the clock's business time to its stop, or to the cut-off while
--   it runs), with the incident's priority and service. Ordered by month, priority, breached_at,
--   id and SLA.
WITH relevant AS (
    -- The incidents that can have a pause: a clock that can be decided in the period (the
    -- condition of `clocks` below, for either clock) and a change into a pause state by the
    -- cut-off. Only their state changes are ordered; every other clock has no pause, as the
    -- outer join with `pauses` gives it. In the generated data a tenth of the incidents pause, so
    -- the window orders a seventh of the state changes (1 M store: 9.9 → 5.4 CPU-seconds).
    SELECT i.id
    FROM incidents i CROSS JOIN params p
    WHERE i.opened_at <= p.as_of
      AND i.opened_at < p.period_end
      AND NOT (coalesce(coalesce(i.acknowledged_at, i.resolved_at) <= p.as_of AND coalesce(i.acknowledged_at, i.resolved_at) < p.period_start, false)
               AND coalesce(i.resolved_at <= p.as_of AND i.resolved_at < p.period_start, false))
      AND (i.resolved_at IS NULL OR i.resolved_at >= least(p.period_start, p.as_of) OR i.acknowledged_at >= least(p.period_start, p.as_of))
      AND i.id IN (SELECT e.ticket_id
                   FROM events e
                   JOIN sla_pause_states ps ON ps.state = e.to_value
                   CROSS JOIN params p
                   WHERE lower(e.field) = 'state' AND e.at <= p.as_of)
),
state_changes AS (
    -- State changes at or before the cut-off (the load already leaves later events out, so the
    -- next change is never cut short), of every relevant ticket whole. The relevant tickets come
    -- first, as the join's build side: with events first, DataFusion hashed every event (6.5 GB
    -- for two months of the 10 M store, against 0.9 GB). The cut-off rides along as a column: a
    -- join of the pauses with the one-row params table is planned as a nested loop that costs
    -- seconds.
    SELECT e.ticket_id, e.at, e.to_value, p.as_of,
           lead(e.at) OVER (PARTITION BY e.ticket_id ORDER BY e.at, e.id) AS next_at
    FROM relevant r
    JOIN events e ON e.ticket_id = r.id
    CROSS JOIN params p
    WHERE lower(e.field) = 'state' AND e.at <= p.as_of
),
pauses AS (
    -- Each ticket's pauses as (start, end) pairs, in no order: the clock functions order them.
    -- One list keeps each start with its end; `array_agg(… ORDER BY …)` is evaluated row by row
    -- in DataFusion 55 (1 M store: about a second of CPU for 100 k tickets).
    SELECT s.ticket_id,
           array_agg(named_struct('start', s.at, 'end', coalesce(s.next_at, s.as_of))) AS pauses
    FROM state_changes s
    JOIN sla_pause_states ps ON ps.state = s.to_value
    GROUP BY s.ticket_id
),
unpaused AS (
    SELECT i.id, i.by_group, i.priority, i.service, c.sla, t.calendar, i.opened_at AS started,
           CASE WHEN c.sla = 'response' THEN t.response_hours ELSE t.resolution_hours END AS target,
           CASE WHEN c.sla = 'response' THEN coalesce(i.acknowledged_at, i.resolved_at) ELSE i.resolved_at END AS stop_at,
           p.as_of, p.period_start, p.period_end
    FROM incidents i
    JOIN sla_targets t ON t.priority = i.priority
    CROSS JOIN (VALUES ('response'), ('resolution')) AS c(sla)
    CROSS JOIN params p
    WHERE i.opened_at <= p.as_of
      -- Only clocks that can be decided in the period: one is decided at its stop (met) or at its
      -- deadline (breached, which comes before any stop), and neither comes before the start, so
      -- a clock that started after the period, or stopped before it, is never counted in it.
      AND i.opened_at < p.period_end
      -- The same condition, loosened to one the Parquet reader can test against each row
      -- group's minimum, maximum and null count (it cannot see through coalesce and CASE): a
      -- store of ten years then reads the months whose clocks can still be decided, not every
      -- incident ever opened.
      AND (i.resolved_at IS NULL OR i.resolved_at >= least(p.period_start, p.as_of) OR i.acknowledged_at >= least(p.period_start, p.as_of))
      AND NOT coalesce(CASE WHEN c.sla = 'response' THEN coalesce(i.acknowledged_at, i.resolved_at) ELSE i.resolved_at END <= p.as_of
                       AND CASE WHEN c.sla = 'response' THEN coalesce(i.acknowledged_at, i.resolved_at) ELSE i.resolved_at END < p.period_start, false)
),
clocks AS (
    -- The pauses come first, as the hash join's build side: a tenth of the incidents, where
    -- `LEFT JOIN pauses` would hash every clock (370 MB for the 1 M store).
    SELECT k.*, pz.pauses
    FROM pauses pz
    RIGHT JOIN unpaused k ON pz.ticket_id = k.id
),
-- The parameters ride along from clocks rather than being joined again: a join of two million
-- clocks with the one-row params table would hold every clock in memory at once.
evaluated AS (
    SELECT k.id, k.by_group, k.priority, k.service, k.started, k.sla, k.target, k.period_start, k.period_end,
           CASE WHEN k.stop_at <= k.as_of THEN k.stop_at END AS stopped,
           sla_running_hours(k.started, CASE WHEN k.stop_at <= k.as_of THEN k.stop_at ELSE k.as_of END,
                             k.calendar, k.pauses) AS elapsed,
           sla_deadline(k.started, k.target, k.calendar, k.pauses) AS deadline
    FROM clocks k
)
SELECT month, id, sla, priority, service, opened_at, breached_at, stopped_at, target_hours, elapsed_hours
FROM (SELECT report_month(CASE WHEN deadline >= period_start AND deadline < period_end THEN deadline END) AS month,
             id, sla, priority, service, started AS opened_at, deadline AS breached_at, stopped AS stopped_at,
             target AS target_hours, elapsed AS elapsed_hours
      FROM evaluated
      -- DataFusion evaluates the clock functions for this filter and again for the breaches
      -- that pass it, a few percent of the clocks.
      WHERE elapsed > target) AS breaches
WHERE month IS NOT NULL
ORDER BY month, priority NULLS LAST, breached_at, id, CASE sla WHEN 'response' THEN 1 ELSE 2 END
