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
entities AS (
    SELECT * FROM known_cis
    UNION ALL
    SELECT 'ci', f.ci, w.ws, w.we
    FROM (SELECT DISTINCT ci FROM failures WHERE ci IS NOT NULL) f CROSS JOIN w
    WHERE f.ci NOT IN (SELECT id FROM cis)
    UNION ALL
    SELECT 'service', s.service, w.ws, w.we
    FROM (SELECT service FROM cis WHERE service IS NOT NULL UNION SELECT service FROM failures WHERE service IS NOT NULL) s
    CROSS JOIN w
),
observed AS (
    SELECT scope, key, os, oe, (extract(epoch FROM oe) - extract(epoch FROM os)) / 3600.0 AS observation_hours
    FROM entities WHERE oe > os
),
-- Each failure with the observation span of its CI (from cis, else the window) and of its service
-- (the window), as `observed` has them, worked out here rather than joined from `observed`:
-- DataFusion plans a CTE afresh at every use, and `observed` is itself built from `failures`.
spans AS (
    SELECT 'ci' AS scope, f.ci AS key,
           CASE WHEN c.key IS NULL THEN f.ws ELSE c.os END AS os,
           CASE WHEN c.key IS NULL THEN f.we ELSE c.oe END AS oe,
           f.fs, f.fe
    FROM failures f LEFT JOIN known_cis c ON c.key = f.ci
    WHERE f.ci IS NOT NULL
    UNION ALL
    SELECT 'service', f.service, f.ws, f.we, f.fs, f.fe FROM failures f WHERE f.service IS NOT NULL
),
hits AS (
    SELECT * FROM spans WHERE oe > os
),
clipped AS (
    SELECT scope, key, greatest(fs, os) AS s, least(fe, oe) AS e, fs >= os AND fs < oe AS starts_inside
    FROM hits
),
ordered AS (
    SELECT scope, key, s, e,
           max(e) OVER (PARTITION BY scope, key ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS previous_end
    FROM clipped WHERE e > s
),
islands AS (
    SELECT scope, key, s, e,
           sum(CASE WHEN previous_end IS NULL OR s > previous_end THEN 1 ELSE 0 END)
               OVER (PARTITION BY scope, key ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
    FROM ordered
),
outages AS (
    SELECT scope, key, min(s) AS s, max(e) AS e FROM islands GROUP BY scope, key, island
),
-- Downtime and the gaps between outages in one pass over the outages (see spans).
gaps AS (
    SELECT scope, key, s, e,
           (extract(epoch FROM lead(s) OVER (PARTITION BY scope, key ORDER BY s)) - extract(epoch FROM e)) / 3600.0 AS gap
    FROM outages
),
outage_stats AS (
    SELECT scope, key, sum(extract(epoch FROM e) - extract(epoch FROM s)) / 3600.0 AS downtime_hours, avg(gap) AS mean_gap_hours
    FROM gaps GROUP BY scope, key
),
counts AS (
    SELECT scope, key, count(CASE WHEN starts_inside THEN 1 END) AS failures FROM clipped GROUP BY scope, key
)
SELECT o.scope, o.key,
       coalesce(c.failures, 0) AS failures,
       o.observation_hours,
       coalesce(d.downtime_hours, 0.0) AS downtime_hours,
       (o.observation_hours - coalesce(d.downtime_hours, 0.0)) / nullif(coalesce(c.failures, 0), 0) AS mtbf_hours,
       coalesce(d.downtime_hours, 0.0) / nullif(coalesce(c.failures, 0), 0) AS mttr_hours,
       (o.observation_hours - coalesce(d.downtime_hours, 0.0)) / o.observation_hours AS availability,
       d.mean_gap_hours
FROM observed o
LEFT JOIN counts c ON c.scope = o.scope AND c.key = o.key
LEFT JOIN outage_stats d ON d.scope = o.scope AND d.key = o.key
ORDER BY availability, failures DESC, o.scope, o.key
