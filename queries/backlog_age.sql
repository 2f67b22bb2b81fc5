-- title: Open backlog by age
-- unit: incidents
-- better: lower
-- grain: age band × priority at the cut-off, and age band over all priorities (scope); --by: × the field
-- keys: by_group, scope, priority, age_band
-- measures: open_incidents, idle_incidents, oldest_days
-- window: cut-off
-- n: open_incidents
-- definition: The incidents open at the cut-off, the same incidents as backlog counts for the
--   month that holds it: opened before the cut-off and not resolved before it (resolved_at null or
--   at or after the cut-off). An incident's age is cut-off − opened_at in days of 24 hours, and its
--   band counts whole days of age: 0-2 days (under 3 days old), 3-7 days, 8-30 days, 31-90 days
--   and over 90 days (91 days old or more). open_incidents counts the band's incidents;
--   idle_incidents those with nothing recorded on them for idle_days (default 14) or more before
--   the cut-off, their last activity being the latest of opened_at, acknowledged_at (when at or
--   before the cut-off) and their events at or before the cut-off; oldest_days is the age of the
--   band's oldest incident, in days, null when the band is empty. Rows with scope priority give
--   each priority: every band appears for priorities 1 to 5 (and any other priority in the data; a
--   null priority is the group of incidents with none), with 0 where nothing is open. One row per
--   band with scope all (priority null) counts the open incidents of every priority. With --by
--   FIELD, every count is cut by the incident's FIELD as well (incidents with none form their own
--   group, null), and only the bands and groups with open incidents appear.
WITH open_at_cut AS (
    SELECT i.id, i.by_group, i.priority, p.as_of, p.idle_days,
           (extract(epoch FROM p.as_of) - extract(epoch FROM i.opened_at)) / 86400.0 AS age_days,
           greatest(i.opened_at, CASE WHEN i.acknowledged_at <= p.as_of THEN i.acknowledged_at END) AS touched
    FROM incidents i CROSS JOIN params p
    WHERE i.opened_at < p.as_of AND (i.resolved_at IS NULL OR i.resolved_at >= p.as_of)
),
activity AS (
    -- Each open incident's own last touch and its events, as one list, not an outer join: on a
    -- Ballista cluster, an outer join whose one side is empty (no open incident has an event)
    -- does not finish.
    SELECT id, by_group, priority, as_of, idle_days, age_days, touched AS at FROM open_at_cut
    UNION ALL
    SELECT o.id, o.by_group, o.priority, o.as_of, o.idle_days, o.age_days, e.at
    FROM open_at_cut o JOIN events e ON e.ticket_id = o.id
    WHERE e.at <= o.as_of
),
aged AS (
    SELECT id, by_group, priority, age_days,
           CASE WHEN age_days < 3 THEN '0-2 days'
                WHEN age_days < 8 THEN '3-7 days'
                WHEN age_days < 31 THEN '8-30 days'
                WHEN age_days < 91 THEN '31-90 days'
                ELSE 'over 90 days' END AS age_band,
           (extract(epoch FROM as_of) - extract(epoch FROM max(at))) / 86400.0 >= idle_days AS idle
    FROM activity
    GROUP BY id, by_group, priority, as_of, idle_days, age_days
),
stats AS (
    SELECT by_group,
           CASE WHEN grouping(priority) = 1 THEN 'all' ELSE 'priority' END AS scope,
           priority, age_band,
           count(*) AS open_incidents,
           count(CASE WHEN idle THEN 1 END) AS idle_incidents,
           max(age_days) AS oldest_days
    FROM aged
    GROUP BY GROUPING SETS ((by_group, priority, age_band), (by_group, age_band))
),
grid AS (
    SELECT DISTINCT g.by_group, g.scope, g.priority, b.age_band
    FROM kpi_grid g
    CROSS JOIN (VALUES ('0-2 days'), ('3-7 days'), ('8-30 days'), ('31-90 days'), ('over 90 days')) AS b(age_band)
)
SELECT by_group, scope, priority, age_band, open_incidents, idle_incidents, oldest_days
FROM (
    SELECT coalesce(g.by_group, s.by_group) AS by_group,
           coalesce(g.scope, s.scope) AS scope,
           coalesce(g.priority, s.priority) AS priority,
           coalesce(g.age_band, s.age_band) AS age_band,
           coalesce(s.open_incidents, 0) AS open_incidents,
           coalesce(s.idle_incidents, 0) AS idle_incidents,
           s.oldest_days
    FROM grid g
    FULL JOIN stats s ON (s.by_group IS NOT DISTINCT FROM g.by_group) AND s.scope = g.scope
                      AND (s.priority IS NOT DISTINCT FROM g.priority) AND s.age_band = g.age_band
) AS bands
ORDER BY by_group NULLS LAST, scope, priority NULLS LAST,
         CASE age_band WHEN '0-2 days' THEN 1 WHEN '3-7 days' THEN 2 WHEN '8-30 days' THEN 3 WHEN '31-90 days' THEN 4 ELSE 5 END
