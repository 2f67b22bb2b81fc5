-- title: Incident volume
-- unit: incidents
-- better: neutral
-- grain: month × category × priority; --by: × the field
-- keys: month, by_group, category, priority
-- measures: incidents
-- n: incidents
-- significance: incidents = poisson(incidents)
-- definition: The number of incidents opened, counted in the calendar month, in the reporting time
--   zone, of their opened_at, by category and priority. Every incident opened in the period counts,
--   whatever its state. Only combinations with at least one incident appear. With --by FIELD, the
--   counts are cut by the incident's FIELD as well (incidents with none form their own group,
--   null). Volume is workload, so its direction is neutral: a change is information, never
--   better or worse.
SELECT report_month(i.opened_at) AS month, i.by_group, i.category, i.priority, count(*) AS incidents
FROM incidents i CROSS JOIN params p
WHERE i.opened_at >= p.period_start AND i.opened_at < p.period_end AND i.opened_at <= p.as_of
GROUP BY 1, 2, 3, 4
ORDER BY month, by_group NULLS LAST, category NULLS LAST, priority NULLS LAST
