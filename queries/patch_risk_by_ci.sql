-- title: Riskiest CIs to patch
-- unit: ratio
-- better: lower
-- grain: CI
-- keys: ci
-- measures: rate_ratio
-- n: patches
-- definition: For each ci with at least risk_min_patches (default 5) completed patches in the period
--   (as in patch_incident_correlation: is_patch, outcome failed, backed_out, successful or
--   successful_with_issues, actual_end in the period at or before the cut-off); patches and
--   failed_patches (failed or backed_out) count them. Its post-patch time is the union of the windows
--   (actual_end, actual_end + window_hours] of those patches (correlation_window_hours, default 72),
--   ended at the cut-off; post_patch_incidents counts the incidents on the ci opened within it. Its
--   baseline time is the union of the 90 days [actual_end − 90 days, actual_end) before each of those
--   patches, begun no earlier than the first incident of the data, less the post-patch window of
--   every completed patch on the ci, in the period or before it; baseline_incidents counts the
--   incidents on the ci opened within it. post_patch_hours and baseline_hours are the two times;
--   post_patch_rate and baseline_rate are incidents per day of them (null when the time is zero).
--   rate_ratio = post_patch_rate / baseline_rate (null when baseline_incidents = 0 or a time is
--   zero). rate_ratio_low and rate_ratio_high are its interval at the run's confidence (confidence,
--   default 0.95) by the log method: ln(ratio) ± z × √(1/c1 + 1/c0), c1 and c0 the two counts and
--   z the standard normal quantile of the confidence, with 0.5 added to each count when one is
--   zero (null when both are, or a time is zero). p_value is the exact conditional Poisson rate
--   test, two-sided: given the c1 + c0 incidents, c1 is binomial with the post-patch share of the
--   time under equal rates (scipy.stats.binomtest's two-sided p-value; null when both counts are 0
--   or a time is zero). The interval is asymptotic and the p-value exact, and a finding is judged
--   by its q in the patch family (with patch_incident_correlation's test) against the false
--   discovery rate, so the interval and the verdict can disagree. Ordered by rate_ratio_low,
--   highest first, then rate_ratio and ci.
WITH spans AS (
    SELECT CAST(p.as_of AS BIGINT) AS as_of,
           CAST(p.period_start AS BIGINT) AS ps,
           CAST(p.period_end AS BIGINT) AS pe,
           p.correlation_window_hours * 3600000000 AS w,
           CAST(90 AS BIGINT) * 86400000000 AS lookback
    FROM params p
),
data_start AS (
    SELECT CAST(min(i.opened_at) AS BIGINT) AS t FROM incidents i CROSS JOIN params p WHERE i.opened_at <= p.as_of
),
-- Every completed patch that can bound the period patches' windows or their baselines: those of
-- the period and those whose windows reach into the 90 days before it.
patches AS (
    SELECT c.ci, CAST(c.actual_end AS BIGINT) AS e, c.outcome IN ('failed', 'backed_out') AS failed,
           CAST(c.actual_end AS BIGINT) >= s.ps AS in_period
    FROM changes c CROSS JOIN spans s
    WHERE c.is_patch AND c.ci IS NOT NULL
      AND c.outcome IN ('failed', 'backed_out', 'successful', 'successful_with_issues')
      AND c.actual_end IS NOT NULL
      AND CAST(c.actual_end AS BIGINT) <= s.as_of AND CAST(c.actual_end AS BIGINT) < s.pe
      AND CAST(c.actual_end AS BIGINT) >= s.ps - s.lookback - s.w
),
tested AS (
    SELECT pa.ci, count(*) AS patches, count(CASE WHEN pa.failed THEN 1 END) AS failed_patches
    FROM patches pa CROSS JOIN params p
    WHERE pa.in_period
    GROUP BY pa.ci, p.risk_min_patches
    HAVING count(*) >= p.risk_min_patches
),
-- A sweep over each tested CI's time line: baselines open and close (kind 0) before the incidents
-- at the same instant (kind 1) are placed, windows (kind 2) after them, so an incident at a patch's
-- end is outside its window and its baseline, and one at a window's end is inside the window.
events AS (
    SELECT pa.ci, least(greatest(pa.e - s.lookback, d.t), pa.e) AS t, 0 AS kind, 1 AS base, 0 AS post, 0 AS windows, 0 AS incident
    FROM patches pa JOIN tested t ON t.ci = pa.ci CROSS JOIN spans s CROSS JOIN data_start d
    WHERE pa.in_period
    UNION ALL
    SELECT pa.ci, pa.e, 0, -1, 0, 0, 0
    FROM patches pa JOIN tested t ON t.ci = pa.ci
    WHERE pa.in_period
    UNION ALL
    SELECT pa.ci, pa.e, 2, 0, CASE WHEN pa.in_period THEN 1 ELSE 0 END, 1, 0
    FROM patches pa JOIN tested t ON t.ci = pa.ci
    UNION ALL
    SELECT pa.ci, least(pa.e + s.w, s.as_of), 2, 0, CASE WHEN pa.in_period THEN -1 ELSE 0 END, -1, 0
    FROM patches pa JOIN tested t ON t.ci = pa.ci CROSS JOIN spans s
    UNION ALL
    SELECT i.ci, CAST(i.opened_at AS BIGINT), 1, 0, 0, 0, 1
    FROM incidents i JOIN tested t ON t.ci = i.ci CROSS JOIN spans s
    WHERE CAST(i.opened_at AS BIGINT) <= s.as_of AND CAST(i.opened_at AS BIGINT) >= s.ps - s.lookback
),
-- Each event with the depths after it and the time to the next event: the span it opens.
swept AS (
    SELECT ci, incident,
           sum(base) OVER (PARTITION BY ci ORDER BY t, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS base_depth,
           sum(post) OVER (PARTITION BY ci ORDER BY t, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS post_depth,
           sum(windows) OVER (PARTITION BY ci ORDER BY t, kind ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS window_depth,
           coalesce(lead(t) OVER (PARTITION BY ci ORDER BY t, kind) - t, 0) AS span
    FROM events
),
exposure AS (
    SELECT ci,
           count(CASE WHEN incident = 1 AND post_depth > 0 THEN 1 END) AS post_patch_incidents,
           sum(CASE WHEN post_depth > 0 THEN span ELSE 0 END) / 3600000000.0 AS post_patch_hours,
           count(CASE WHEN incident = 1 AND base_depth > 0 AND window_depth = 0 THEN 1 END) AS baseline_incidents,
           sum(CASE WHEN base_depth > 0 AND window_depth = 0 THEN span ELSE 0 END) / 3600000000.0 AS baseline_hours
    FROM swept
    GROUP BY ci
),
rates AS (
    SELECT t.ci, t.patches, t.failed_patches,
           x.post_patch_incidents, x.post_patch_hours, x.baseline_incidents, x.baseline_hours,
           x.post_patch_incidents * 24.0 / nullif(x.post_patch_hours, 0) AS post_patch_rate,
           x.baseline_incidents * 24.0 / nullif(x.baseline_hours, 0) AS baseline_rate,
           CASE WHEN x.post_patch_incidents = 0 OR x.baseline_incidents = 0 THEN 0.5 ELSE 0.0 END AS k
    FROM tested t JOIN exposure x ON x.ci = t.ci
),
log_ratio AS (
    SELECT r.*,
           CASE WHEN post_patch_incidents + baseline_incidents > 0 AND post_patch_hours > 0 AND baseline_hours > 0 THEN
               ln(((post_patch_incidents + k) / post_patch_hours) / ((baseline_incidents + k) / baseline_hours)) END AS ln_ratio,
           sqrt(1.0 / (post_patch_incidents + k) + 1.0 / (baseline_incidents + k)) AS se
    FROM rates r
)
SELECT l.ci, l.patches, l.failed_patches,
       l.post_patch_incidents, l.post_patch_hours, l.post_patch_rate,
       l.baseline_incidents, l.baseline_hours, l.baseline_rate,
       l.post_patch_rate / nullif(l.baseline_rate, 0) AS rate_ratio,
       exp(l.ln_ratio - p.z * l.se) AS rate_ratio_low,
       exp(l.ln_ratio + p.z * l.se) AS rate_ratio_high,
       poisson_rate_p(l.post_patch_incidents, l.post_patch_hours, l.baseline_incidents, l.baseline_hours) AS p_value
FROM log_ratio l CROSS JOIN params p
ORDER BY rate_ratio_low DESC NULLS LAST, rate_ratio DESC NULLS LAST, l.ci
