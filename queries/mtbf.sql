-- title: Mean time between failures (MTBF) and availability
-- unit: hours
-- better: higher
-- grain: CI and service
-- keys: scope, key
-- measures: mtbf_hours, availability
-- n: failures
-- definition: For each configuration item (scope ci) and each business service (scope service). A
--   failure is an incident with major = true or priority ≤ failure_priority (default 2); its outage is
--   [coalesce(started_at, opened_at), coalesce(resolved_at, window end)). The window is the period,
--   ended at the cut-off if that comes first; a CI is observed over the window intersected with its
--   [in_service_from, in_service_to) (CIs that appear only on incidents are observed over the whole
--   window), a service over the whole window; a failure counts for a CI through its ci and for a service
--   through its service. observation_hours is the observed time; downtime_hours is the union of the
--   outages clipped to it, so overlapping failures are not counted twice; failures counts failures that
--   start within it. mtbf_hours = (observation_hours − downtime_hours) / failures; mean_outage_hours
--   = downtime_hours / failures (both null when failures = 0), named apart from MTTR, which is
--   mttr's measure over every resolved incident; availability = (observation_hours −
--   downtime_hours) / observation_hours. mean_gap_hours is the mean time from the end of one merged
--   outage to the start of the next, in time order (null with fewer than two). Ordered by
--   availability, lowest first.
WITH w AS (
    SELECT p.period_start AS ws,
           CASE WHEN p.period_end > p.as_of THEN p.as_of ELSE p.period_end END AS we,
           p.failure_priority
    FROM params p
),
failures AS (
    SELECT i.id, i.ci, i.service, coalesce(i.started_at, i.opened_at) AS fs, coalesce(i.resolved_at, w.we) AS fe, w.ws, w.we
    FROM incidents i CROSS JOIN w
    WHERE (coalesce(i.major, false) OR i.priority <= w.failure_priority)
      AND coalesce(i.started_at, i.opened_at) < w.we
),
known_cis AS (
    SELECT 'ci' AS scope, c.id AS key,
           greatest(c.in_service_from, w.ws) AS os,
           least(c.in_service_to, w.we) AS oe
    FROM cis c CROSS JOIN w
),
-- Each failure once for each scope it counts in: through its CI and through its service.
failure_keys AS (
    SELECT s.scope, CASE WHEN s.scope = 'ci' THEN f.ci ELSE f.service END AS key, f.fs, f.fe, f.ws, f.we
    FROM failures f CROSS JOIN (VALUES ('ci'), ('service')) AS s(scope)
),
-- Each failure with the observation span of its CI (from cis, else the window) or of its service
-- (the window), clipped to it. A failure over before the window, or on a CI not in service in
-- it, neither starts in nor overlaps any observed time: it is not counted, but its CI or service
-- is still an entity of the result.
clipped AS (
    SELECT scope, key, os, oe,
           fe > ws AND oe > os AS counted,
           greatest(fs, os) AS s, least(fe, oe) AS e, fs >= os AND fs < oe AS starts_inside
    FROM (SELECT fk.scope, fk.key,
                 CASE WHEN c.key IS NULL THEN fk.ws ELSE c.os END AS os,
                 CASE WHEN c.key IS NULL THEN fk.we ELSE c.oe END AS oe,
                 fk.fs, fk.fe, fk.ws
          FROM failure_keys fk LEFT JOIN known_cis c ON fk.scope = 'ci' AND c.key = fk.key
          WHERE fk.key IS NOT NULL) AS spans
),
-- Every CI and service with a failure, once, with its observation span (the same for each of its
-- failures), the failures that start inside it, and the union of the clipped outages:
-- `outage_union` merges overlapping or touching outages in time order and gives their total
-- length and the mean gap between them (src/kpi/outages.rs). One aggregate, where three window
-- passes over the outages each sorted them again. DataFusion plans a CTE afresh at every use,
-- so the entities without a failure come from cis below, not from here: the incidents are read
-- once.
outage_stats AS (
    SELECT scope, key, os, oe, failures, get_field(u, 'downtime_hours') AS downtime_hours, get_field(u, 'mean_gap_hours') AS mean_gap_hours
    FROM (SELECT scope, key, max(os) AS os, max(oe) AS oe,
                 count(CASE WHEN counted AND starts_inside THEN 1 END) AS failures,
                 outage_union(CASE WHEN counted THEN s END, CASE WHEN counted THEN e END) AS u
          FROM clipped GROUP BY scope, key) AS grouped
),
-- The entities cis knows: its CIs over their span in the window, and their services over the
-- whole window.
known AS (
    SELECT scope, key, os, oe FROM known_cis
    UNION ALL
    SELECT 'service' AS scope, s.service AS key, w.ws AS os, w.we AS oe
    FROM (SELECT DISTINCT service FROM cis WHERE service IS NOT NULL) s CROSS JOIN w
),
-- Every entity: those cis knows and those only failures name (observed over the whole window),
-- with an observed time.
observed AS (
    SELECT coalesce(k.scope, d.scope) AS scope, coalesce(k.key, d.key) AS key,
           coalesce(k.os, d.os) AS os, coalesce(k.oe, d.oe) AS oe,
           d.failures, d.downtime_hours, d.mean_gap_hours
    FROM known k
    FULL JOIN outage_stats d ON d.scope = k.scope AND d.key = k.key
),
figures AS (
    SELECT scope, key, failures, downtime_hours, mean_gap_hours,
           (extract(epoch FROM oe) - extract(epoch FROM os)) / 3600.0 AS observation_hours
    FROM observed WHERE oe > os
)
SELECT scope, key,
       coalesce(failures, 0) AS failures,
       observation_hours,
       coalesce(downtime_hours, 0.0) AS downtime_hours,
       (observation_hours - coalesce(downtime_hours, 0.0)) / nullif(coalesce(failures, 0), 0) AS mtbf_hours,
       coalesce(downtime_hours, 0.0) / nullif(coalesce(failures, 0), 0) AS mean_outage_hours,
       (observation_hours - coalesce(downtime_hours, 0.0)) / observation_hours AS availability,
       mean_gap_hours
FROM figures
ORDER BY availability, failures DESC, scope, key
