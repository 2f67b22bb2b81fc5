-- title: SLA breach rate
-- unit: ratio
-- better: lower
-- grain: month × priority × SLA, and month × SLA over all priorities (scope); --by: × the field
-- keys: month, by_group, scope, priority, sla
-- measures: breach_rate
-- n: measured
-- significance: breach_rate = proportion(breached, measured)
-- headline: breach_rate = SLA {sla} breaches
-- definition: Two clocks per incident whose priority has targets in the SLA policy: response runs
--   from opened_at to acknowledged_at (or to resolved_at when no acknowledgement is recorded: a
--   resolved ticket was responded to by then at the latest), resolution from opened_at to
--   resolved_at. Each counts business time on the calendar the policy names for the priority and
--   stands still while the ticket is in one of the policy's pause_states (from events with field
--   state: a pause lasts from the change into a pause state until the ticket's next state change).
--   A clock is breached when its time exceeds the target (equal is met). A stopped clock
--   (acknowledged or resolved at or before the cut-off) is measured in the calendar month,
--   reporting time zone, of the stop if met, or of the instant it passed its target if breached. A
--   clock still running at the cut-off is measured only once it has passed its target, in the month
--   of that instant, and then also counts in open_breached. measured counts the clocks decided in
--   the month, breached those that breached; breach_rate is breached / measured, null when measured
--   = 0. Rows with scope priority give each priority: every month of the period appears for
--   priorities 1 to 5 (and any other priority in the data; a null priority is the group of
--   incidents with none) and both SLAs. One row per month and SLA with scope all (priority null)
--   pools the clocks of every priority; its rate is computed over those clocks, never from the
--   per-priority rates. With --by FIELD, every figure is cut by the incident's FIELD as well
--   (incidents with none form their own group, null), and only the months and groups with a decided
--   clock appear.
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
    SELECT i.id, i.by_group, i.priority, c.sla, t.calendar, i.opened_at AS started,
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
    SELECT k.id, k.by_group, k.priority, k.sla, k.target, k.period_start, k.period_end,
           CASE WHEN k.stop_at <= k.as_of THEN k.stop_at END AS stopped,
           sla_running_hours(k.started, CASE WHEN k.stop_at <= k.as_of THEN k.stop_at ELSE k.as_of END,
                             k.calendar, k.pauses) AS elapsed,
           sla_deadline(k.started, k.target, k.calendar, k.pauses) AS deadline
    FROM clocks k
),
decided AS (
    -- Every clock, with month null unless it is decided in the period. The clocks are not
    -- filtered here: a filter on the clock functions' results is pushed below the projection
    -- that computes them, and DataFusion then computes them twice (once to filter, once to keep).
    -- The rows without a month form their own group in `stats`, dropped at the end.
    SELECT id, by_group, priority, sla, breached, still_open,
           report_month(CASE WHEN decided_at >= period_start AND decided_at < period_end THEN decided_at END) AS month
    FROM (SELECT id, by_group, priority, sla, period_start, period_end,
                 elapsed > target AS breached,
                 stopped IS NULL AS still_open,
                 -- A breached clock is decided at its deadline, a met one at its stop; one that
                 -- neither stopped nor breached is not decided (null).
                 CASE WHEN elapsed > target THEN deadline ELSE stopped END AS decided_at
          FROM evaluated) AS e
),
stats AS (
    SELECT month, by_group,
           CASE WHEN grouping(priority) = 1 THEN 'all' ELSE 'priority' END AS scope,
           priority, sla,
           count(id) AS measured,
           count(CASE WHEN breached THEN 1 END) AS breached,
           count(CASE WHEN breached AND still_open THEN 1 END) AS open_breached
    FROM decided
    GROUP BY GROUPING SETS ((month, by_group, priority, sla), (month, by_group, sla))
),
grid AS (
    SELECT g.month, g.by_group, g.scope, g.priority, c.sla
    FROM kpi_grid g CROSS JOIN (VALUES ('response'), ('resolution')) AS c(sla)
)
SELECT * FROM (
    SELECT coalesce(g.month, s.month) AS month,
           coalesce(g.by_group, s.by_group) AS by_group,
           coalesce(g.scope, s.scope) AS scope,
           coalesce(g.priority, s.priority) AS priority,
           coalesce(g.sla, s.sla) AS sla,
           coalesce(s.measured, 0) AS measured,
           coalesce(s.breached, 0) AS breached,
           CAST(s.breached AS DOUBLE) / nullif(s.measured, 0) AS breach_rate,
           coalesce(s.open_breached, 0) AS open_breached
    FROM grid g
    FULL JOIN stats s ON s.month = g.month AND (s.by_group IS NOT DISTINCT FROM g.by_group) AND s.scope = g.scope
                     AND (s.priority IS NOT DISTINCT FROM g.priority) AND s.sla = g.sla
) AS rates
WHERE month IS NOT NULL
ORDER BY month, by_group NULLS LAST, scope, priority NULLS LAST, CASE sla WHEN 'response' THEN 1 ELSE 2 END
