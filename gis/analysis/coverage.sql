-- Coverage: which targets near an active hazard have had a `by` feature within reach in a window.
--
-- One statement; every value is a bound parameter (:name) and every {placeholder} is an
-- identifier taken from a layer spec or one of the fixed fragments in coverage.py.
--
-- Distances are geodesic metres, decided exactly as PostGIS geography would, but without paying
-- geography's price (~8 µs) on every pair: each candidate pair first gets a cheap planar distance
-- in a frame scaled to metres at the target's latitude (on the WGS 84 ellipsoid). That frame is
-- within a relative error `slack` of the geodesic distance (0.5 × (0.5 + |tan φ|) × d / R, three
-- times the largest error measured), so a pair is decided by it when it is clearly inside or clearly
-- outside a threshold; only pairs within that slack of the threshold, and the candidates for a
-- nearest distance, are measured on geography. Boxes in degrees come from the same scale factors.

-- name: coverage
WITH targets AS MATERIALIZED (
    SELECT t.id, t.geom, {population} AS population,
           ST_X(t.geom) AS x0, ST_Y(t.geom) AS y0, f.kx, f.ky, f.slack_per_m
    FROM {target} t
    CROSS JOIN LATERAL (
        SELECT pi() / 180 * 6378137.0 * cos(radians(ST_Y(t.geom)))
                   / sqrt(1 - 0.0066943799901413165 * sin(radians(ST_Y(t.geom))) ^ 2) AS kx,
               pi() / 180 * 6378137.0 * (1 - 0.0066943799901413165)
                   / (1 - 0.0066943799901413165 * sin(radians(ST_Y(t.geom))) ^ 2) ^ 1.5 AS ky,
               0.5 * (0.5 + abs(tan(radians(least(abs(ST_Y(t.geom)), 80))))) / 6371008.8 AS slack_per_m
    ) f
    WHERE t.deleted_at IS NULL {area_filter}
),
measured AS MATERIALIZED (
    SELECT t.id, t.geom, t.population, hz.hazards_within, hz.nearest_hazard_m, hz.at_risk,
           coalesce(cov.covered, false) AS covered, cov.nearest_by_m, cov.last_by_on
    FROM targets t
    CROSS JOIN LATERAL ({hazards}) hz
    CROSS JOIN LATERAL ({reach}) cov
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

-- name: hazards
-- The active hazards within :risk_within_m of target t, and the nearest one, exactly. Each
-- candidate is measured once, cheaply (`measure_m`; OFFSET 0 keeps PostgreSQL from repeating it
-- wherever it is used), which bounds its distance (`low_m`, `high_m`); the scaled polygon is
-- measured only when the threshold falls between the bounds, and geography only within the slack
-- of it. The nearest distance is then measured on geography for the few hazards whose lower
-- bound beats the best upper bound.
SELECT c.hazards_within, c.hazards_within > 0 AS at_risk, n.nearest_hazard_m
FROM (
    SELECT count(*) FILTER (WHERE {hazard_within}) AS hazards_within,
           min(b2.high_m) AS least_high_m
    FROM (
        SELECT h.geom, {hazard_measure}
        FROM {hazard} h
        WHERE h.deleted_at IS NULL {hazard_active}
          AND h.geom && {risk_box}
        OFFSET 0
    ) h
    CROSS JOIN LATERAL (SELECT t.slack_per_m * :risk_within_m AS slack) s
    CROSS JOIN LATERAL ({hazard_bounds}) b2
) c
CROSS JOIN LATERAL (
    SELECT round(CAST(min(ST_Distance(geography(h.geom), geography(t.geom))) AS numeric), 2)
               AS nearest_hazard_m
    FROM (
        SELECT h.geom, {hazard_measure}, r.reach_m
        FROM {hazard} h
        CROSS JOIN LATERAL (SELECT {nearest_reach} AS reach_m) r
        WHERE c.hazards_within > 0 AND h.deleted_at IS NULL {hazard_active}
          AND h.geom && {reach_box}
        OFFSET 0
    ) h
    CROSS JOIN LATERAL ({hazard_bounds}) b2
    WHERE b2.low_m <= h.reach_m
) n

-- name: no_hazards
-- Without the risk condition: every target counts, and no hazard is read.
SELECT CAST(NULL AS bigint) AS hazards_within, true AS at_risk, CAST(NULL AS numeric) AS nearest_hazard_m

-- name: reach
-- The `by` features within :within_m of a target that is counted (at risk) or shown: covered (one
-- in the window), the nearest of the window exactly (a second, small probe measures on geography
-- only those that can be the nearest), and the latest date on or before :until. That date is
-- looked for among older features only for uncovered targets that are shown, since a covered
-- target's latest lies in the window and an uncovered one's recency factor is 1 whatever it is.
SELECT c.covered, coalesce(c.last_in_window_on, o.last_before_on) AS last_by_on, n.nearest_by_m
FROM (
    SELECT bool_or({by_within}) AS covered,
           max(b.on_date) FILTER (WHERE {by_within}) AS last_in_window_on,
           min(b2.high_m) FILTER (WHERE {by_within}) AS least_high_m
    FROM (
        SELECT b.geom, {by_date} AS on_date, {by_measure}
        FROM {by} b
        WHERE b.deleted_at IS NULL {by_in_window} AND (hz.at_risk OR :all_targets)
          AND b.geom && {within_box}
        OFFSET 0
    ) b
    CROSS JOIN LATERAL (SELECT t.slack_per_m * :within_m AS slack) s
    CROSS JOIN LATERAL ({by_bounds}) b2
) c
CROSS JOIN LATERAL (
    SELECT max(b.on_date) FILTER (WHERE {by_within}) AS last_before_on
    FROM (
        SELECT b.geom, {by_date} AS on_date, {by_measure}
        FROM {by} b
        WHERE b.deleted_at IS NULL {by_before_window}
          AND :dated AND :show_uncovered AND (hz.at_risk OR :all_targets) AND c.covered IS NOT TRUE
          AND b.geom && {within_box}
        OFFSET 0
    ) b
    CROSS JOIN LATERAL (SELECT t.slack_per_m * :within_m AS slack) s
    CROSS JOIN LATERAL ({by_bounds}) b2
) o
CROSS JOIN LATERAL (
    SELECT round(CAST(min(ST_Distance(geography(b.geom), geography(t.geom))) AS numeric), 2)
               AS nearest_by_m
    FROM (
        SELECT b.geom, {by_measure}, r.reach_m
        FROM {by} b
        CROSS JOIN LATERAL (SELECT {nearest_reach} AS reach_m) r
        WHERE c.covered AND b.deleted_at IS NULL {by_in_window}
          AND b.geom && {reach_box}
        OFFSET 0
    ) b
    CROSS JOIN LATERAL ({by_bounds}) b2
    WHERE b2.low_m <= b.reach_m
) n
