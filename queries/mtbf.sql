-- title: Availability, MTBF and MTBSI on agreed service time
-- unit: hours
-- better: higher
-- grain: CI and service
-- keys: scope, key
-- measures: availability, month_availability, mtbf_hours, mtbsi_hours, mean_outage_hours (lower)
-- n: outages
-- definition: For each configuration item (scope ci) and each business service (scope service).
--   Outages come from the outages table when it holds any row (source outages); otherwise they are
--   derived from incidents (source incidents): an incident with major = true, or with priority ≤
--   failure_priority when that is set, is an outage over [coalesce(started_at, opened_at),
--   resolved_at). Only type outage is downtime; degradation and planned records are reported beside
--   it. An outage record without a service takes its CI's service in cis, as does an incident; an
--   outage still open at the cut-off lasts to the window's end. Two windows end at the period's
--   end, or at the cut-off if that comes first: the rolling window starts availability_months
--   (default 12) calendar months before, with the period's last month as its last, and the month
--   window starts with the period's last month; both start no earlier than the data's first
--   incident. A CI is observed over a window intersected with its [in_service_from, in_service_to)
--   (a CI not in cis over the whole window), a service over the whole window. Agreed service time
--   is the observed time on the calendar the SLA policy's [services."<name>"] names for the service
--   (for a CI, its service in cis), 24x7 where the policy names none or the CI has no service.
--   agreed_hours is the rolling window's agreed time; downtime_hours the part of it inside the
--   union of the outages, so overlapping outages count once; outages counts the outages that
--   overlap the observed window (begin before its end, end after its start), so an availability
--   below 1 always comes with a count. availability = (agreed_hours − downtime_hours) /
--   agreed_hours; mtbf_hours = (agreed_hours − downtime_hours) / outages; mtbsi_hours =
--   agreed_hours / outages; mean_outage_hours = downtime_hours / outages (the three null when
--   outages = 0, availability when agreed_hours = 0). month_outages, month_agreed_hours, month_downtime_hours and month_availability
--   are the same over the month window. degradations and planned_outages count those records in the
--   rolling window, degradation_hours and planned_hours the agreed time inside their unions.
--   window_start and window_end are the observed rolling window; availability_target is the
--   service's target in the policy; mean_gap_hours is the mean wall-clock time from the end of one
--   merged outage to the start of the next in the rolling window (null with fewer than two).
--   Entities with no observed time in the rolling window are left out. Ordered by availability,
--   lowest first.
WITH windows AS (
    SELECT v.win, CASE WHEN v.win = 'rolling' THEN p.availability_start ELSE p.availability_month_start END AS ws,
           p.availability_end AS we
    FROM (VALUES ('rolling'), ('month')) AS v(win) CROSS JOIN params p
),
source AS (
    SELECT CASE WHEN count(*) > 0 THEN 'outages' ELSE 'incidents' END AS source FROM outages
),
-- No outer joins below: on a Ballista cluster, an outer join whose other side was empty (no
-- outage records, no CMDB, no service in the policy) never finished. Each lookup is a union of the
-- rows with the rows they look up, and a window over the key.
--
-- Every outage, degradation and planned record, from the outages table or from incidents, with
-- the service it counts for: its own, else its CI's in cis.
records AS (
    SELECT type, ci, coalesce(service, ci_service) AS service, s, e
    FROM (SELECT *, max(cmdb_service) OVER (PARTITION BY ci) AS ci_service
          FROM (SELECT true AS is_record, o.type AS type, o.ci AS ci, o.service AS service, arrow_cast(NULL, 'Utf8') AS cmdb_service,
                       o.begins_at AS s, o.ends_at AS e
                FROM outages o CROSS JOIN params p
                -- Only records that overlap a window can count (hits keeps them by the same test);
                -- filtered here, before the CI lookup's window function, the scan reads the
                -- window's months rather than every outage ever recorded.
                WHERE o.begins_at < p.availability_end
                  AND (o.ends_at IS NULL OR o.ends_at > least(p.availability_start, p.availability_month_start))
                UNION ALL
                SELECT true AS is_record, 'outage' AS type, i.ci AS ci, i.service AS service, arrow_cast(NULL, 'Utf8') AS cmdb_service,
                       coalesce(i.started_at, i.opened_at) AS s, i.resolved_at AS e
                FROM incidents i CROSS JOIN params p CROSS JOIN source src
                WHERE src.source = 'incidents' AND (coalesce(i.major, false) OR coalesce(i.priority <= p.failure_priority, false))
                  AND coalesce(i.started_at, i.opened_at) < p.availability_end
                  AND (i.resolved_at IS NULL OR i.resolved_at > least(p.availability_start, p.availability_month_start))
                UNION ALL
                SELECT false AS is_record, arrow_cast(NULL, 'Utf8') AS type, c.id AS ci, arrow_cast(NULL, 'Utf8') AS service,
                       c.service AS cmdb_service, arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))') AS s, arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))') AS e
                FROM cis c) AS listed) AS looked_up
    WHERE is_record
),
-- The CIs and services cis knows, each with its service's calendar and availability target from
-- the policy (24x7 and none where it names none).
levels AS (
    SELECT kind, key, since, until, coalesce(max(calendar) OVER (PARTITION BY service), '24x7') AS calendar,
           max(target) OVER (PARTITION BY service) AS target
    FROM (SELECT 'ci' AS kind, c.id AS key, c.service AS service, c.in_service_from AS since, c.in_service_to AS until,
                 arrow_cast(NULL, 'Utf8') AS calendar, CAST(NULL AS DOUBLE) AS target
          FROM cis c
          UNION ALL
          SELECT 'service', d.service AS key, d.service AS service, arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))'), arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))'), arrow_cast(NULL, 'Utf8'), CAST(NULL AS DOUBLE)
          FROM (SELECT DISTINCT service FROM cis WHERE service IS NOT NULL) d
          UNION ALL
          SELECT 'policy', l.service AS key, l.service AS service, arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))'), arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))'), l.calendar, l.availability_target
          FROM service_levels l) AS listed
),
-- Their observed span in each window.
spans AS (
    SELECT l.kind AS scope, l.key, l.calendar, CASE WHEN l.kind = 'service' THEN l.target END AS target,
           w.win, w.ws, w.we, greatest(l.since, w.ws) AS os, least(l.until, w.we) AS oe
    FROM levels l CROSS JOIN windows w
    WHERE l.kind <> 'policy'
),
-- Each record once for each scope it counts in and each window it overlaps, with the observed span
-- and calendar of its entity there (the window itself and 24x7 for an entity only records name).
hits AS (
    SELECT scope, key, win, type, s, e,
           coalesce(max(calendar) OVER entity, '24x7') AS calendar, max(target) OVER entity AS target,
           coalesce(max(os) OVER entity, ws) AS os, coalesce(max(oe) OVER entity, we) AS oe, is_record
    FROM (SELECT true AS is_record, sc.scope, CASE WHEN sc.scope = 'ci' THEN r.ci ELSE r.service END AS key, w.win, w.ws, w.we,
                 r.type, r.s, coalesce(r.e, w.we) AS e,
                 arrow_cast(NULL, 'Utf8') AS calendar, CAST(NULL AS DOUBLE) AS target, arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))') AS os, arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))') AS oe
          FROM records r CROSS JOIN windows w CROSS JOIN (VALUES ('ci'), ('service')) AS sc(scope)
          WHERE r.s < w.we AND coalesce(r.e, w.we) > w.ws
          UNION ALL
          SELECT false, scope, key, win, ws, we, arrow_cast(NULL, 'Utf8'), arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))'), arrow_cast(NULL, 'Timestamp(Microsecond, Some("UTC"))'), calendar, target, os, oe
          FROM spans) AS listed
    WINDOW entity AS (PARTITION BY scope, key, win)
),
-- Per entity and window with a record: the records that overlap its observed span, counted, and
-- the agreed time left when each kind is taken out of it (the lists' null entries are skipped),
-- and the wall-clock union of its outages.
measured AS (
    SELECT scope, key, win, calendar, target, os, oe, outages, degradations, planned_outages, mean_gap_hours,
           sla_running_hours(os, oe, calendar, downs) AS up,
           sla_running_hours(os, oe, calendar, degraded) AS undegraded,
           sla_running_hours(os, oe, calendar, planned) AS unplanned
    FROM (SELECT scope, key, win, max(calendar) AS calendar, max(target) AS target, max(os) AS os, max(oe) AS oe,
                 count(CASE WHEN counted AND type = 'outage' THEN 1 END) AS outages,
                 count(CASE WHEN counted AND type = 'degradation' THEN 1 END) AS degradations,
                 count(CASE WHEN counted AND type = 'planned' THEN 1 END) AS planned_outages,
                 array_agg(CASE WHEN counted AND type = 'outage' THEN named_struct('start', s, 'end', e) END) AS downs,
                 array_agg(CASE WHEN counted AND type = 'degradation' THEN named_struct('start', s, 'end', e) END) AS degraded,
                 array_agg(CASE WHEN counted AND type = 'planned' THEN named_struct('start', s, 'end', e) END) AS planned,
                 get_field(outage_union(CASE WHEN counted AND type = 'outage' THEN greatest(s, os) END,
                                        CASE WHEN counted AND type = 'outage' THEN least(e, oe) END), 'mean_gap_hours') AS mean_gap_hours
          FROM (SELECT *, s < oe AND e > os AS counted FROM hits WHERE is_record AND key IS NOT NULL) AS h
          GROUP BY scope, key, win) AS grouped
    WHERE oe > os
),
-- Every entity in every window where it was observed: as measured, or, known but without a
-- record, fully available. A union and a grouping where a full join would do: see above.
clocks AS (
    SELECT scope, key, win, calendar, target, os, oe, outages, degradations, planned_outages, mean_gap_hours, agreed,
           coalesce(up, agreed) AS up, coalesce(undegraded, agreed) AS undegraded, coalesce(unplanned, agreed) AS unplanned
    FROM (SELECT scope, key, win, max(calendar) AS calendar, max(target) AS target, max(os) AS os, max(oe) AS oe,
                 coalesce(max(outages), 0) AS outages, coalesce(max(degradations), 0) AS degradations,
                 coalesce(max(planned_outages), 0) AS planned_outages, max(mean_gap_hours) AS mean_gap_hours,
                 business_hours(max(os), max(oe), max(calendar)) AS agreed,
                 max(up) AS up, max(undegraded) AS undegraded, max(unplanned) AS unplanned
          FROM (SELECT scope, key, win, calendar, target, os, oe, outages, degradations, planned_outages, mean_gap_hours, up, undegraded, unplanned
                FROM measured
                UNION ALL
                SELECT scope, key, win, calendar, target, os, oe, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT),
                       CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE)
                FROM spans WHERE oe > os) AS both_kinds
          GROUP BY scope, key, win) AS grouped
),
entities AS (
    SELECT scope, key,
           max(calendar) AS calendar, max(target) AS availability_target,
           max(CASE WHEN win = 'rolling' THEN os END) AS window_start,
           max(CASE WHEN win = 'rolling' THEN oe END) AS window_end,
           max(CASE WHEN win = 'rolling' THEN outages END) AS outages,
           max(CASE WHEN win = 'rolling' THEN agreed END) AS agreed_hours,
           max(CASE WHEN win = 'rolling' THEN up END) AS up_hours,
           max(CASE WHEN win = 'month' THEN outages END) AS month_outages,
           max(CASE WHEN win = 'month' THEN agreed END) AS month_agreed_hours,
           max(CASE WHEN win = 'month' THEN up END) AS month_up_hours,
           max(CASE WHEN win = 'rolling' THEN degradations END) AS degradations,
           max(CASE WHEN win = 'rolling' THEN agreed - undegraded END) AS degradation_hours,
           max(CASE WHEN win = 'rolling' THEN planned_outages END) AS planned_outages,
           max(CASE WHEN win = 'rolling' THEN agreed - unplanned END) AS planned_hours,
           max(CASE WHEN win = 'rolling' THEN mean_gap_hours END) AS mean_gap_hours
    FROM clocks GROUP BY scope, key
)
SELECT e.scope, e.key, e.calendar, e.window_start, e.window_end,
       e.outages,
       e.agreed_hours,
       e.agreed_hours - e.up_hours AS downtime_hours,
       e.up_hours / nullif(e.outages, 0) AS mtbf_hours,
       e.agreed_hours / nullif(e.outages, 0) AS mtbsi_hours,
       (e.agreed_hours - e.up_hours) / nullif(e.outages, 0) AS mean_outage_hours,
       e.up_hours / nullif(e.agreed_hours, 0) AS availability,
       e.month_outages, e.month_agreed_hours,
       e.month_agreed_hours - e.month_up_hours AS month_downtime_hours,
       e.month_up_hours / nullif(e.month_agreed_hours, 0) AS month_availability,
       e.availability_target,
       e.degradations, e.degradation_hours, e.planned_outages, e.planned_hours,
       e.mean_gap_hours,
       src.source
FROM source src CROSS JOIN entities e
WHERE e.window_end IS NOT NULL
ORDER BY availability, outages DESC, scope, key
