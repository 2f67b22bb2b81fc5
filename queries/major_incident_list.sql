-- title: Major-incident review list
-- unit: hours
-- better: lower
-- grain: major incident
-- keys: month, id
-- measures: hours_to_acknowledge, hours_to_resolve, downtime_hours
-- definition: One row per incident with major = true opened in the period (opened_at at or before the
--   cut-off), under the calendar month, reporting time zone, of its opened_at: its service, CI,
--   priority, opened_at, acknowledged_at and resolved_at (null when after the cut-off), the linked
--   problem_id and the causing change (caused_by_change). hours_to_acknowledge = acknowledged_at −
--   opened_at and hours_to_resolve = resolved_at − opened_at, in hours, null while it has not
--   happened. downtime_hours is its outage as derived from the incident (as mtbf derives outages
--   where no outages table was loaded), [coalesce(started_at, opened_at),
--   coalesce(resolved_at, window end)), clipped to the window (the period, ended at the cut-off if
--   that comes first), in hours. Ordered by opened_at.
WITH w AS (
    SELECT p.period_start AS ws, CASE WHEN p.period_end > p.as_of THEN p.as_of ELSE p.period_end END AS we, p.as_of
    FROM params p
),
majors AS (
    SELECT i.*,
           CASE WHEN i.acknowledged_at <= w.as_of THEN i.acknowledged_at END AS acknowledged,
           CASE WHEN i.resolved_at <= w.as_of THEN i.resolved_at END AS resolved,
           greatest(coalesce(i.started_at, i.opened_at), w.ws) AS outage_start,
           least(coalesce(CASE WHEN i.resolved_at <= w.as_of THEN i.resolved_at END, w.we), w.we) AS outage_end
    FROM incidents i CROSS JOIN w
    WHERE i.major AND i.opened_at <= w.as_of AND i.opened_at >= w.ws AND i.opened_at < w.we
)
SELECT report_month(opened_at) AS month, id, service, ci, priority,
       opened_at, acknowledged AS acknowledged_at, resolved AS resolved_at,
       (extract(epoch FROM acknowledged) - extract(epoch FROM opened_at)) / 3600.0 AS hours_to_acknowledge,
       (extract(epoch FROM resolved) - extract(epoch FROM opened_at)) / 3600.0 AS hours_to_resolve,
       greatest((extract(epoch FROM outage_end) - extract(epoch FROM outage_start)) / 3600.0, 0.0) AS downtime_hours,
       problem_id, caused_by_change
FROM majors
ORDER BY opened_at, id
