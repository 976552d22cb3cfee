-- Coverage: which targets near an active hazard have had a `by` feature within reach in a window.
--
-- One statement; every value is a bound parameter (:name) and every {placeholder} is an
-- identifier taken from a layer spec or one of the fixed fragments in coverage.py, filled in one
-- pass (gis/analysis/sql.py).
--
-- Hazards: the target × hazard pairs and their geodesic distances come measured (analysis_pairs,
-- kept fresh by the write paths, plus those measured for this question: gis/analysis/pairs_now.py);
-- here they are only counted, for the hazards active as of :until. For the whole stored reach
-- the per-target figures counted at write time answer instead, where the time rule allows.
--
-- `by` features (points): each candidate gets two cheap planar distances in frames scaled to
-- metres at the target's latitude, one never above and one never below the geodesic distance
-- (the bounds and their proof are in coverage.py, `FRAME`). A pair is decided by them when both
-- fall on the same side of the threshold; only pairs between them are measured on geography,
-- whose point-to-point distance is GeographicLib's (nanometres). The nearest distance is measured
-- on geography for the candidates whose lower bound is within the least upper bound.
--
-- The window's `by` features are found from whichever side is smaller (`drive`): a whole-country
-- question over one year reads ~2,000 sessions rather than probing the sessions' index for
-- ~1,800 villages; a district's question probes its villages. Only a target the window leaves
-- uncovered reads its older features, for the latest date before the window.

-- name: coverage
WITH targets AS MATERIALIZED (
    SELECT t.id, t.geom, {population} AS population, ST_X(t.geom) AS x0, ST_Y(t.geom) AS y0, f.*
    FROM {target} t
    CROSS JOIN LATERAL ({frame}) f
    WHERE t.deleted_at IS NULL {area_filter}
),
hazard_figures AS MATERIALIZED (
    {hazard_figures}
),
at_risk AS MATERIALIZED (
    -- Every target with its hazard figures; the `by` features are read for those at risk (for
    -- every target with status=all).
    SELECT t.id, hz.*
    FROM targets t
    LEFT JOIN hazard_figures f ON f.target_id = t.id
    CROSS JOIN LATERAL ({hazards}) hz
),
drive AS MATERIALIZED (
    -- Which side drives the search for the window's `by` features: the features, when the
    -- window holds fewer than :drive_ratio per target read (a probe of the targets' index per
    -- feature), else the targets (a probe of the features' index per target). Counted up to
    -- that limit only. Both ways give the same pairs.
    SELECT count(x.one) < l.n AS by_features
    FROM (SELECT :drive_ratio * count(*) AS n FROM at_risk r WHERE r.at_risk OR :all_targets) l
    LEFT JOIN LATERAL (
        SELECT 1 AS one FROM {by} b
        WHERE b.deleted_at IS NULL {by_until} AND {by_in_window}
        LIMIT l.n
    ) x ON true
    GROUP BY l.n
),
window_pairs AS MATERIALIZED (
    -- Driven by the features: each `by` feature of the window in a read target's box, with its
    -- bounds and whether it is within reach. The box around a feature uses the least scale
    -- factors of all targets read, so it holds every target whose own box holds the feature.
    SELECT t.id AS target_id, b.on_date, b.geom, t.geom AS target_geom, b2.low_m, b2.high_m,
           {by_within} AS within
    FROM (
        SELECT b.geom, {by_date} AS on_date
        FROM {by} b
        WHERE (SELECT by_features FROM drive) AND b.deleted_at IS NULL {by_until}
          AND {by_in_window}
    ) b
    JOIN {target} t0
      ON t0.geom && ST_Expand(b.geom, :within_m / (SELECT min(kx_lo) FROM targets) + 1e-9,
                              :within_m / (SELECT min(ky_lo) FROM targets) + 1e-9)
    JOIN targets t ON t.id = t0.id AND b.geom && {within_box}
    JOIN at_risk r ON r.id = t.id AND (r.at_risk OR :all_targets)
    CROSS JOIN LATERAL (SELECT b.geom, {by_measure}) bm
    CROSS JOIN LATERAL ({bm_bounds}) b2
),
window_figures AS (
    -- Per target the window covers: the latest date, and the nearest on geography among the
    -- candidates whose lower bound is within the least upper bound of those within reach.
    SELECT p.target_id, max(p.on_date) AS last_in_window,
           round(CAST(min(ST_Distance(geography(p.geom), geography(p.target_geom)))
                      FILTER (WHERE p.low_m <= l.least_high_m) AS numeric), 2) AS nearest_by_m
    FROM window_pairs p
    JOIN (SELECT target_id, min(high_m) AS least_high_m FROM window_pairs WHERE within
          GROUP BY target_id) l ON l.target_id = p.target_id
    WHERE p.within
    GROUP BY p.target_id
    UNION ALL
    -- Driven by the targets: the same figures, one target at a time.
    SELECT t.id, w.last_in_window, w.nearest_by_m
    FROM targets t
    JOIN at_risk r ON r.id = t.id AND (r.at_risk OR :all_targets)
    CROSS JOIN LATERAL ({by_target}) w
    WHERE NOT (SELECT by_features FROM drive) AND w.covered
),
measured AS MATERIALIZED (
    SELECT t.id, t.geom, t.population, r.hazards_within, r.nearest_hazard_m, r.at_risk,
           wf.target_id IS NOT NULL AS covered, wf.nearest_by_m,
           coalesce(wf.last_in_window, o.last_before) AS last_by_on
    FROM targets t
    JOIN at_risk r ON r.id = t.id
    LEFT JOIN window_figures wf ON wf.target_id = t.id
    CROSS JOIN LATERAL ({older}) o
),
sited AS (
    -- Each target's area by point-in-polygon (generic: no layer needs a district column), driven
    -- from the few areas so each polygon is prepared once; on a shared border the area asked for
    -- wins, else the lowest id.
    SELECT DISTINCT ON (t.id) t.id, a.id AS area_id
    FROM {area} a JOIN {target} t ON ST_Intersects(a.geom, t.geom)
    WHERE a.deleted_at IS NULL AND t.deleted_at IS NULL {area_filter}
    ORDER BY t.id, a.id IS NOT DISTINCT FROM CAST(:area_id AS bigint) DESC, a.id
),
scored AS (
    SELECT m.*, s.area_id, CAST(:until AS date) - m.last_by_on AS days_since_last,
           CASE WHEN m.at_risk THEN
               (1 + log(1 + coalesce(m.population, :unknown_population)))
               * CASE WHEN :risk THEN greatest(0.0, 1 - m.nearest_hazard_m / :risk_within_m) ELSE 1.0 END
               * CASE WHEN :dated AND m.last_by_on IS NOT NULL
                      THEN least(1.0, (CAST(:until AS date) - m.last_by_on) / CAST(:window_days AS numeric))
                      WHEN NOT :dated AND m.covered THEN 0.0
                      ELSE 1.0 END
           ELSE 0.0 END AS priority
    FROM measured m LEFT JOIN sited s ON s.id = m.id
),
listed_areas AS (
    SELECT a.id, {area_name} AS name, {area_code} AS code
    FROM {area} a
    WHERE a.deleted_at IS NULL AND (CAST(:area_id AS bigint) IS NULL OR a.id = :area_id)
),
tallies AS (
    -- One row per listed area (with or without targets), one for targets in no area, one total.
    SELECT GROUPING(l.id) = 1 AS is_total, l.id, l.name, l.code, count(s.id) AS targets,
           count(*) FILTER (WHERE s.at_risk) AS at_risk,
           count(*) FILTER (WHERE s.at_risk AND s.covered) AS covered,
           count(*) FILTER (WHERE s.at_risk AND NOT s.covered) AS uncovered,
           coalesce(sum(s.population) FILTER (WHERE s.at_risk), 0) AS people_at_risk,
           coalesce(sum(s.population) FILTER (WHERE s.at_risk AND s.covered), 0) AS people_covered,
           count(*) FILTER (WHERE s.at_risk AND s.population IS NULL) AS at_risk_population_unknown
    FROM listed_areas l FULL JOIN scored s ON s.area_id = l.id
    GROUP BY GROUPING SETS ((l.id, l.name, l.code), ())
),
summary AS (
    SELECT json_build_object(
               'targets', total.targets, 'at_risk', total.at_risk, 'covered', total.covered,
               'uncovered', total.uncovered,
               'coverage_pct', round(100.0 * total.covered / nullif(total.at_risk, 0), 1),
               'people_at_risk', total.people_at_risk, 'people_covered', total.people_covered,
               'at_risk_population_unknown', total.at_risk_population_unknown,
               'districts', coalesce((
                   SELECT json_agg(json_build_object(
                              'district', d.name, 'district_code', d.code, 'targets', d.targets,
                              'at_risk', d.at_risk, 'covered', d.covered, 'uncovered', d.uncovered,
                              'coverage_pct', round(100.0 * d.covered / nullif(d.at_risk, 0), 1),
                              'people_at_risk', d.people_at_risk, 'people_covered', d.people_covered,
                              'at_risk_population_unknown', d.at_risk_population_unknown)
                          ORDER BY d.uncovered DESC, d.at_risk DESC, d.name NULLS LAST)
                   FROM tallies d
                   WHERE NOT d.is_total AND (d.id IS NOT NULL OR d.targets > 0)), '[]')
           ) AS body
    FROM tallies total
    WHERE total.is_total
),
features AS (
    SELECT s.priority, s.nearest_hazard_m, s.id,
           json_build_object(
               'type', 'Feature', 'id', s.id,
               'geometry', CAST(ST_AsGeoJSON(s.geom, 7) AS json),
               'properties', {properties}
           ) AS feature
    FROM scored s
    JOIN {target} t ON t.id = s.id
    LEFT JOIN {area} a ON a.id = s.area_id
    WHERE CASE CAST(:status AS text)
              WHEN 'uncovered' THEN s.at_risk AND NOT s.covered
              WHEN 'covered' THEN s.at_risk AND s.covered
              ELSE true END
)
SELECT CAST(json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce((SELECT json_agg(f.feature ORDER BY f.priority DESC,
                                                 f.nearest_hazard_m NULLS LAST, f.id)
                                 FROM features f), '[]'),
           'summary', (SELECT body FROM summary),
           'parameters', CAST(:parameters AS json),
           'notice', CAST(:notice AS text)
       ) AS text);

-- name: hazard_figures_from_pairs
-- Per target: the active hazards within :risk_within_m and the nearest distance, from the pairs.
SELECT p.target_id, count(*) AS hazards_within, min(p.distance_m) AS nearest_hazard_m
FROM targets t
JOIN ({pairs_now}) p ON p.target_id = t.id
JOIN {hazard} h ON h.id = p.hazard_id
WHERE p.distance_m <= :risk_within_m AND {hazard_active}
GROUP BY p.target_id

-- name: hazard_figures_stored
-- For the whole stored reach: each target's stored figures (gis/analysis/pairs.py) when its rows
-- are fresh and every hazard near it had been recorded and had taken its current status by
-- :as_of (then the time rule gives the current statuses); the other targets from the pairs.
SELECT f.target_id, f.hazards_within, f.nearest_m AS nearest_hazard_m
FROM targets t
JOIN analysis_target_figures f ON f.pairing = :pairing AND f.target_id = t.id
WHERE f.hazards_within > 0 AND coalesce(f.settled_on <= CAST(:as_of AS date), true)
  AND f.target_id <> ALL(CAST(:redo_targets AS bigint[]))
UNION ALL
{from_pairs}

-- name: pairs_needed
-- With the stored figures, only the targets they do not answer are counted from the pairs.
AND p.target_id IN (SELECT unnest(CAST(:redo_targets AS bigint[]))
                    UNION SELECT f.target_id FROM analysis_target_figures f
                    WHERE f.pairing = :pairing AND f.settled_on > CAST(:as_of AS date))

-- name: no_hazard_figures
SELECT CAST(NULL AS bigint) AS target_id, CAST(NULL AS bigint) AS hazards_within,
       CAST(NULL AS float8) AS nearest_hazard_m
WHERE false

-- name: hazards
SELECT coalesce(f.hazards_within, 0) AS hazards_within, f.target_id IS NOT NULL AS at_risk,
       round(CAST(f.nearest_hazard_m AS numeric), 2) AS nearest_hazard_m

-- name: no_hazards
-- Without the risk condition: every target counts, and no hazard is read.
SELECT CAST(NULL AS bigint) AS hazards_within, true AS at_risk, CAST(NULL AS numeric) AS nearest_hazard_m

-- name: older
-- Only for a target read that the window does not cover: the latest date of a `by` feature
-- within reach before the window, whatever its age (a covered target's latest on or before
-- :until is in the window).
SELECT max(b.on_date) FILTER (WHERE w.within) AS last_before
FROM (
    SELECT b.geom, {by_date} AS on_date, {by_measure}
    FROM {by} b
    WHERE wf.target_id IS NULL AND {by_before} AND (r.at_risk OR :all_targets)
      AND b.deleted_at IS NULL AND b.geom && {within_box}
    OFFSET 0
) b
CROSS JOIN LATERAL ({by_bounds}) b2
CROSS JOIN LATERAL (SELECT {by_within} AS within) w

-- name: by_target
-- One target's `by` features of the window within :within_m: covered (any), the latest date and
-- the least upper bound; then the nearest on geography, for the few candidates whose lower bound
-- is within that least upper bound.
SELECT c.covered, c.last_in_window, n.nearest_by_m
FROM (
    SELECT coalesce(bool_or(w.within), false) AS covered,
           max(b.on_date) FILTER (WHERE w.within) AS last_in_window,
           min(b2.high_m) FILTER (WHERE w.within) AS least_high_m
    FROM (
        SELECT b.geom, {by_date} AS on_date, {by_measure}
        FROM {by} b
        WHERE b.deleted_at IS NULL {by_until} AND {by_in_window} AND b.geom && {within_box}
        OFFSET 0
    ) b
    CROSS JOIN LATERAL ({by_bounds}) b2
    CROSS JOIN LATERAL (SELECT {by_within} AS within) w
) c
CROSS JOIN LATERAL (
    SELECT round(CAST(min(ST_Distance(geography(b.geom), geography(t.geom))) AS numeric), 2)
               AS nearest_by_m
    FROM (
        SELECT b.geom, {by_measure}
        FROM {by} b
        WHERE c.covered AND b.deleted_at IS NULL {by_until} AND {by_in_window}
          AND b.geom && {reach_box}
        OFFSET 0
    ) b
    CROSS JOIN LATERAL ({by_bounds}) b2
    WHERE b2.low_m <= c.least_high_m
) n
