-- title: Problem candidates
-- unit: incidents
-- better: lower
-- grain: CI × category
-- keys: ci, category
-- measures: max_in_window, incidents
-- n: incidents
-- definition: Recurring incidents that problem management should look at: (ci, category) pairs with at
--   least candidate_min_incidents incidents (default 3) opened within candidate_window_days days (default
--   30) of each other, counting only incidents opened in the period, at or before the cut-off, that have
--   a ci and no problem_id; pairs where any incident opened in the period is already linked to a problem
--   are left out. max_in_window is the most such incidents opened in any window of that length that
--   starts at one of them; incidents counts all of them in the period; first_opened and last_opened
--   bound them. Ordered by max_in_window, then incidents, descending.
WITH scope AS (
    SELECT i.id, i.ci, i.category, i.opened_at, i.problem_id,
           extract(epoch FROM i.opened_at) AS t,
           CAST(i.opened_at AS BIGINT) / greatest(p.candidate_window_days * 86400000000, 1) AS bucket
    FROM incidents i CROSS JOIN params p
    WHERE i.ci IS NOT NULL AND i.opened_at >= p.period_start AND i.opened_at < p.period_end AND i.opened_at <= p.as_of
),
managed AS (
    SELECT DISTINCT ci, category FROM scope WHERE problem_id IS NOT NULL
),
unlinked AS (
    SELECT s.* FROM scope s
    LEFT JOIN managed m ON m.ci = s.ci AND (m.category IS NOT DISTINCT FROM s.category)
    WHERE s.problem_id IS NULL AND m.ci IS NULL
),
-- Buckets candidate_window_days wide: an incident at most that long after another of its pair is in
-- the same bucket or the next, so each incident meets only those, in a hash join on (ci, category,
-- bucket), instead of every incident of its pair. The filter still decides.
probes AS (
    SELECT id, ci, category, t, bucket FROM unlinked
    UNION ALL
    SELECT id, ci, category, t, bucket + 1 FROM unlinked
),
windows AS (
    SELECT a.ci, a.category, a.id, count(*) AS in_window
    FROM probes a
    JOIN unlinked b ON b.ci = a.ci AND (b.category IS NOT DISTINCT FROM a.category) AND b.bucket = a.bucket
    CROSS JOIN params p
    WHERE b.t >= a.t AND b.t < a.t + p.candidate_window_days * 86400
    GROUP BY a.ci, a.category, a.id
),
pairs AS (
    SELECT u.ci, u.category, count(*) AS incidents, min(u.opened_at) AS first_opened, max(u.opened_at) AS last_opened
    FROM unlinked u GROUP BY u.ci, u.category
),
peaks AS (
    SELECT ci, category, max(in_window) AS max_in_window FROM windows GROUP BY ci, category
)
SELECT pr.ci, pr.category, w.max_in_window, pr.incidents, pr.first_opened, pr.last_opened
FROM pairs pr
JOIN peaks w ON w.ci = pr.ci AND (w.category IS NOT DISTINCT FROM pr.category)
JOIN params p ON w.max_in_window >= p.candidate_min_incidents
ORDER BY max_in_window DESC, incidents DESC, pr.ci, pr.category NULLS LAST
