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
           extract(epoch FROM i.opened_at) AS t
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
windows AS (
    SELECT a.ci, a.category, a.id, count(*) AS in_window
    FROM unlinked a
    JOIN unlinked b ON b.ci = a.ci AND (b.category IS NOT DISTINCT FROM a.category)
    CROSS JOIN params p
    WHERE b.t >= a.t AND b.t < a.t + p.candidate_window_days * 86400
    GROUP BY a.ci, a.category, a.id
),
pairs AS (
    SELECT u.ci, u.category, count(*) AS incidents, min(u.opened_at) AS first_opened, max(u.opened_at) AS last_opened
    FROM unlinked u GROUP BY u.ci, u.category
)
SELECT pr.ci, pr.category, max(w.in_window) AS max_in_window, pr.incidents, pr.first_opened, pr.last_opened
FROM pairs pr
JOIN windows w ON w.ci = pr.ci AND (w.category IS NOT DISTINCT FROM pr.category)
CROSS JOIN params p
GROUP BY pr.ci, pr.category, pr.incidents, pr.first_opened, pr.last_opened, p.candidate_min_incidents
HAVING max(w.in_window) >= p.candidate_min_incidents
ORDER BY max_in_window DESC, incidents DESC, pr.ci, pr.category NULLS LAST
