-- title: CIs with the most post-patch incidents
-- unit: incidents
-- better: lower
-- grain: CI
-- keys: ci
-- measures: post_patch_incidents
-- n: patches
-- definition: For each ci with completed patches in the period (as in patch_incident_correlation:
--   is_patch, a non-cancelled final outcome, actual_end in the period at or before the cut-off):
--   patches and failed_patches (failed or backed_out) count them, and post_patch_incidents counts the
--   distinct incidents on that ci opened after some patch's actual_end and at most window_hours later
--   (correlation_window_hours, default 72), at or before the cut-off; after_failed_patches counts those
--   that follow a failed patch. The 20 CIs with the most post_patch_incidents are listed, most first;
--   CIs with none are left out.
WITH patches AS (
    SELECT c.id, c.ci, c.actual_end, c.outcome IN ('failed', 'backed_out') AS failed,
           CAST(c.actual_end AS BIGINT) / greatest(p.correlation_window_hours * 3600000000, 1) AS bucket
    FROM changes c CROSS JOIN params p
    WHERE c.is_patch AND c.ci IS NOT NULL
      AND c.outcome IN ('failed', 'backed_out', 'successful', 'successful_with_issues')
      AND c.actual_end IS NOT NULL AND c.actual_end <= p.as_of
      AND c.actual_end >= p.period_start AND c.actual_end < p.period_end
),
-- Buckets window_hours wide, as in patch_incident_correlation: each patch meets only the incidents
-- of its CI in its own bucket and the next, in a hash join on (ci, bucket), from one scan of the
-- changes.
probes AS (
    SELECT pa.ci, pa.actual_end, pa.failed, pa.bucket + o.shift AS bucket
    FROM patches pa CROSS JOIN (VALUES (0), (1)) AS o(shift)
),
candidates AS (
    SELECT i.id, i.ci, i.opened_at, CAST(i.opened_at AS BIGINT) / greatest(p.correlation_window_hours * 3600000000, 1) AS bucket
    FROM incidents i CROSS JOIN params p
    WHERE i.ci IS NOT NULL AND i.opened_at <= p.as_of AND i.opened_at > p.period_start
),
hits AS (
    SELECT pr.ci, i.id AS incident, pr.failed
    FROM probes pr
    JOIN candidates i ON i.ci = pr.ci AND i.bucket = pr.bucket
    CROSS JOIN params p
    WHERE i.opened_at > pr.actual_end
      AND extract(epoch FROM i.opened_at) - extract(epoch FROM pr.actual_end) <= p.correlation_window_hours * 3600
),
per_ci AS (
    SELECT ci, count(*) AS patches, count(CASE WHEN failed THEN 1 END) AS failed_patches FROM patches GROUP BY ci
),
hit_ci AS (
    SELECT ci, count(DISTINCT incident) AS post_patch_incidents,
           count(DISTINCT CASE WHEN failed THEN incident END) AS after_failed_patches
    FROM hits GROUP BY ci
)
SELECT pc.ci, pc.patches, pc.failed_patches, h.post_patch_incidents, h.after_failed_patches
FROM per_ci pc JOIN hit_ci h ON h.ci = pc.ci
ORDER BY h.post_patch_incidents DESC, h.after_failed_patches DESC, pc.ci
LIMIT 20
