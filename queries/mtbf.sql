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
--   start within it. mtbf_hours = (observation_hours − downtime_hours) / failures; mttr_hours =
--   downtime_hours / failures (both null when failures = 0); availability = (observation_hours −
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
entities AS (
    SELECT * FROM known_cis
    UNION ALL
    -- CIs that appear only on failures, and services (of CIs or of failures): the whole window.
    SELECT k.scope, k.key, w.ws, w.we
    FROM (SELECT fk.scope, fk.key
          FROM (SELECT DISTINCT scope, key FROM failure_keys WHERE key IS NOT NULL) fk
          LEFT JOIN cis c ON fk.scope = 'ci' AND c.id = fk.key
          WHERE c.id IS NULL
          UNION
          SELECT 'service', service FROM cis WHERE service IS NOT NULL) k
    CROSS JOIN w
),
observed AS (
    SELECT scope, key, os, oe, (extract(epoch FROM oe) - extract(epoch FROM os)) / 3600.0 AS observation_hours
    FROM entities WHERE oe > os
),
-- Each failure with the observation span of its CI (from cis, else the window) or of its service
-- (the window), as `observed` has them, worked out here rather than joined from `observed`:
-- DataFusion plans a CTE afresh at every use, and `observed` is itself built from `failures`.
-- So the incidents are read twice: here and for `entities`.
spans AS (
    SELECT fk.scope, fk.key,
           CASE WHEN c.key IS NULL THEN fk.ws ELSE c.os END AS os,
           CASE WHEN c.key IS NULL THEN fk.we ELSE c.oe END AS oe,
           fk.fs, fk.fe
    FROM failure_keys fk LEFT JOIN known_cis c ON fk.scope = 'ci' AND c.key = fk.key
    WHERE fk.key IS NOT NULL
      -- A failure over before the window neither starts in nor overlaps any observed time.
      AND fk.fe > fk.ws
),
clipped AS (
    SELECT scope, key, greatest(fs, os) AS s, least(fe, oe) AS e, fs >= os AND fs < oe AS starts_inside
    FROM spans WHERE oe > os
),
-- The failures that start inside the observed time, and the union of the clipped outages:
-- `outage_union` merges overlapping or touching outages in time order and gives their total
-- length and the mean gap between them (src/kpi/outages.rs). One aggregate, where three window
-- passes over the outages each sorted them again.
outage_stats AS (
    SELECT scope, key, failures, get_field(u, 'downtime_hours') AS downtime_hours, get_field(u, 'mean_gap_hours') AS mean_gap_hours
    FROM (SELECT scope, key, count(CASE WHEN starts_inside THEN 1 END) AS failures, outage_union(s, e) AS u
          FROM clipped GROUP BY scope, key) AS grouped
)
SELECT o.scope, o.key,
       coalesce(d.failures, 0) AS failures,
       o.observation_hours,
       coalesce(d.downtime_hours, 0.0) AS downtime_hours,
       (o.observation_hours - coalesce(d.downtime_hours, 0.0)) / nullif(coalesce(d.failures, 0), 0) AS mtbf_hours,
       coalesce(d.downtime_hours, 0.0) / nullif(coalesce(d.failures, 0), 0) AS mttr_hours,
       (o.observation_hours - coalesce(d.downtime_hours, 0.0)) / o.observation_hours AS availability,
       d.mean_gap_hours
FROM observed o
LEFT JOIN outage_stats d ON d.scope = o.scope AND d.key = o.key
ORDER BY availability, failures DESC, o.scope, o.key
