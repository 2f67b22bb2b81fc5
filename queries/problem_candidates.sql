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
    SELECT i.ci, i.category, i.opened_at, i.problem_id, p.candidate_window_days
    FROM incidents i CROSS JOIN params p
    WHERE i.ci IS NOT NULL AND i.opened_at >= p.period_start AND i.opened_at < p.period_end AND i.opened_at <= p.as_of
),
-- One pass over the pairs. A pair with any incident linked to a problem is left out whole, so in
-- the pairs that stay every incident is unlinked and counts. `max_in_window` sorts each pair's
-- opening times once and counts, for each, those opened in the window of candidate_window_days
-- days that starts there (src/kpi/recurrence.rs), where a self-join paired each incident with
-- its neighbours.
pairs AS (
    SELECT ci, category,
           count(problem_id) AS linked,
           count(*) AS incidents, min(opened_at) AS first_opened, max(opened_at) AS last_opened,
           max_in_window(opened_at, CAST(candidate_window_days * 86400 AS DOUBLE)) AS max_in_window
    FROM scope
    GROUP BY ci, category
)
SELECT pr.ci, pr.category, pr.max_in_window, pr.incidents, pr.first_opened, pr.last_opened
FROM pairs pr
JOIN params p ON pr.max_in_window >= p.candidate_min_incidents
WHERE pr.linked = 0
ORDER BY max_in_window DESC, incidents DESC, pr.ci, pr.category NULLS LAST
