-- title: Failed patches and later incidents
-- unit: ratio
-- better: lower
-- grain: patch outcome group
-- keys: outcome_group
-- measures: rate, lift
-- n: patches
-- significance: rate = proportion(followed_by_incident, patches)
-- definition: Over completed patches (changes with is_patch = true, an actual_end in the period at or
--   before the cut-off, and outcome failed, backed_out, successful or successful_with_issues), split
--   into outcome_group failed (failed, backed_out) and successful (successful, successful_with_issues).
--   A patch is followed_by_incident when an incident on the same ci was opened after its actual_end and
--   at most window_hours later (correlation_window_hours, default 72). rate is followed_by_incident /
--   patches; lift is the failed group's rate divided by the successful group's (the same on both
--   rows); p_value is Fisher's exact test, two-sided, on the 2×2 table of group × followed.
--   lift_low and lift_high are the interval of the lift at the run's confidence (confidence, default
--   0.95) by Katz's log method: ln(lift) ± z × √(1/a − 1/n1 + 1/c − 1/n2), z the standard normal
--   quantile of the confidence (1.96 at 0.95), a of n1 the failed group's followed patches and c of
--   n2 the successful group's, with 0.5 added to each of the four cells when one is zero (null when
--   a group has no patches). The interval is asymptotic while p_value is exact, and the finding is
--   judged by its q in the patch family (with patch_risk_by_ci's tests) against the false discovery
--   rate, so the interval and the verdict can disagree on whether the lift differs from 1.
--   caused_by_link counts the group's patches that some incident names in caused_by_change, reported
--   separately because it is the source tool's explicit link, not a time correlation.
WITH patches AS (
    SELECT c.id, c.ci, c.actual_end,
           CAST(c.actual_end AS BIGINT) / greatest(p.correlation_window_hours * 3600000000, 1) AS bucket,
           CASE WHEN c.outcome IN ('failed', 'backed_out') THEN 'failed' ELSE 'successful' END AS outcome_group
    FROM changes c CROSS JOIN params p
    WHERE c.is_patch AND c.outcome IN ('failed', 'backed_out', 'successful', 'successful_with_issues')
      AND c.actual_end IS NOT NULL AND c.actual_end <= p.as_of
      AND c.actual_end >= p.period_start AND c.actual_end < p.period_end
),
-- Time in buckets window_hours wide (at least a microsecond), so that an incident opened at most
-- window_hours after a patch ended is in the patch's bucket or the next: each patch meets only the
-- incidents of its CI in those two buckets, in a hash join on (ci, bucket), instead of every
-- incident of its CI. The filter below still decides, so the result is the same.
probes AS (
    -- Each patch in its own bucket and the next, from one scan of the changes (a UNION ALL of
    -- patches twice reads them twice).
    SELECT pa.id, pa.ci, pa.actual_end, pa.bucket + o.shift AS bucket
    FROM patches pa CROSS JOIN (VALUES (0), (1)) AS o(shift)
),
candidates AS (
    SELECT i.ci, i.opened_at, CAST(i.opened_at AS BIGINT) / greatest(p.correlation_window_hours * 3600000000, 1) AS bucket
    FROM incidents i CROSS JOIN params p
    WHERE i.ci IS NOT NULL AND i.opened_at <= p.as_of AND i.opened_at > p.period_start
),
followed AS (
    SELECT DISTINCT pr.id
    FROM probes pr
    JOIN candidates i ON i.ci = pr.ci AND i.bucket = pr.bucket
    CROSS JOIN params p
    WHERE i.opened_at > pr.actual_end
      AND extract(epoch FROM i.opened_at) - extract(epoch FROM pr.actual_end) <= p.correlation_window_hours * 3600
),
linked AS (
    SELECT DISTINCT caused_by_change AS id FROM incidents WHERE caused_by_change IS NOT NULL
),
groups AS (
    SELECT g.outcome_group,
           count(pa.id) AS patches,
           count(f.id) AS followed_by_incident,
           count(l.id) AS caused_by_link
    FROM (VALUES ('failed'), ('successful')) AS g(outcome_group)
    LEFT JOIN patches pa ON pa.outcome_group = g.outcome_group
    LEFT JOIN followed f ON f.id = pa.id
    LEFT JOIN linked l ON l.id = pa.id
    GROUP BY g.outcome_group
),
rates AS (
    SELECT outcome_group, patches, followed_by_incident, caused_by_link,
           CAST(followed_by_incident AS DOUBLE) / nullif(patches, 0) AS rate
    FROM groups
),
-- The failed group's figures beside each row by window functions over the two rows, rather than
-- joins of `rates` with itself: DataFusion plans a CTE afresh at every use.
sides AS (
    SELECT r.*,
           max(CASE WHEN outcome_group = 'failed' THEN rate END) OVER () AS f_rate,
           max(CASE WHEN outcome_group = 'successful' THEN rate END) OVER () AS s_rate,
           max(CASE WHEN outcome_group = 'failed' THEN followed_by_incident END) OVER () AS f_followed,
           max(CASE WHEN outcome_group = 'failed' THEN patches END) OVER () AS f_patches,
           max(CASE WHEN outcome_group = 'successful' THEN followed_by_incident END) OVER () AS s_followed,
           max(CASE WHEN outcome_group = 'successful' THEN patches END) OVER () AS s_patches
    FROM rates r
),
-- Katz's cells: a followed of n1 failed, c followed of n2 successful, each cell + 0.5 when one is 0.
katz AS (
    SELECT s.*,
           CASE WHEN f_followed = 0 OR f_followed = f_patches OR s_followed = 0 OR s_followed = s_patches THEN 0.5 ELSE 0.0 END AS k
    FROM sides s
),
-- The interval beside each row, null where a group has no patches; computed on the rows of `katz`
-- rather than joined back to `sides`, which would plan the whole correlation a second time.
log_lift AS (
    SELECT k2.*,
           CASE WHEN f_patches > 0 AND s_patches > 0
                THEN ln(((f_followed + k) / (f_patches + 2 * k)) / ((s_followed + k) / (s_patches + 2 * k))) END AS ln_lift,
           CASE WHEN f_patches > 0 AND s_patches > 0
                THEN sqrt(1.0 / (f_followed + k) - 1.0 / (f_patches + 2 * k) + 1.0 / (s_followed + k) - 1.0 / (s_patches + 2 * k)) END AS se
    FROM katz k2
)
SELECT r.outcome_group, r.patches, r.followed_by_incident, r.rate,
       r.f_rate / nullif(r.s_rate, 0) AS lift,
       exp(r.ln_lift - p.z * r.se) AS lift_low,
       exp(r.ln_lift + p.z * r.se) AS lift_high,
       fisher_exact_p(r.f_followed, r.f_patches - r.f_followed, r.s_followed, r.s_patches - r.s_followed) AS p_value,
       r.caused_by_link
FROM log_lift r
CROSS JOIN params p
ORDER BY r.outcome_group
