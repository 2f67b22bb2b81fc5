-- title: Open incidents at the cut-off
-- unit: days
-- better: lower
-- grain: open incident
-- keys: id
-- measures: age_days, idle_days
-- window: cut-off
-- definition: One row per incident open at the cut-off, the incidents backlog_age counts: opened
--   before the cut-off and not resolved before it. age_days = cut-off − opened_at, in days of 24
--   hours; last_activity_at is the latest of opened_at, acknowledged_at (when at or before the
--   cut-off) and the incident's events at or before the cut-off; idle_days = cut-off −
--   last_activity_at, in days, and idle is true when idle_days is at least the idle_days parameter
--   (default 14). With its priority, service, category, assignment_group, opened_at and
--   acknowledged_at (null when after the cut-off). Ordered by opened_at, oldest first, then id.
WITH open_at_cut AS (
    SELECT i.id, i.priority, i.service, i.category, i.assignment_group, i.opened_at, p.as_of,
           p.idle_days AS idle_after,
           CASE WHEN i.acknowledged_at <= p.as_of THEN i.acknowledged_at END AS acknowledged_at
    FROM incidents i CROSS JOIN params p
    WHERE i.opened_at < p.as_of AND (i.resolved_at IS NULL OR i.resolved_at >= p.as_of)
),
activity AS (
    -- Each open incident's own last touch and its events, as one list, not an outer join (see
    -- backlog_age).
    SELECT id, greatest(opened_at, acknowledged_at) AS at FROM open_at_cut
    UNION ALL
    SELECT o.id, e.at FROM open_at_cut o JOIN events e ON e.ticket_id = o.id
    WHERE e.at <= o.as_of
),
last_activity AS (
    SELECT id, max(at) AS last_activity_at FROM activity GROUP BY id
)
SELECT o.id, o.priority, o.service, o.category, o.assignment_group, o.opened_at, o.acknowledged_at,
       (extract(epoch FROM o.as_of) - extract(epoch FROM o.opened_at)) / 86400.0 AS age_days,
       l.last_activity_at,
       (extract(epoch FROM o.as_of) - extract(epoch FROM l.last_activity_at)) / 86400.0 AS idle_days,
       (extract(epoch FROM o.as_of) - extract(epoch FROM l.last_activity_at)) / 86400.0 >= o.idle_after AS idle
FROM open_at_cut o JOIN last_activity l ON l.id = o.id
ORDER BY o.opened_at, o.id
