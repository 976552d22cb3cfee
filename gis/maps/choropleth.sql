-- Per-district figures the overview's choropleth shades by (gis/maps/choropleth.py).
--
-- Every value is a bound parameter (:name); every {placeholder} an identifier from a layer spec
-- or the one active-hazard condition (gis/analysis/common.active_sql), filled in one pass.

-- name: hazard_km2
-- Per district: the geodesic area (WGS 84 ellipsoid) of the land inside it that active hazard
-- areas cover, and their number. Records that overlap are unioned first, so land two records
-- cover counts once; a hazard across the district's border counts only by its part within.
SELECT d.id,
       count(h.id) AS hazards,
       coalesce(ST_Area(geography(ST_Union(
           CASE WHEN ST_CoveredBy(h.geom, d.geom) THEN h.geom
                ELSE ST_CollectionExtract(ST_Intersection(h.geom, d.geom), 3) END))), 0)
         / 1e6 AS km2
FROM {area} d
LEFT JOIN {hazard} h ON h.geom && d.geom AND ST_Intersects(h.geom, d.geom) AND {active}
WHERE d.deleted_at IS NULL AND d.id = ANY(:ids)
GROUP BY d.id
