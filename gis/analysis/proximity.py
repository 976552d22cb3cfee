"""Nearest and within: the features of a layer closest to a point, or within a distance of a
point, line or polygon, each with its geodesic distance (0 inside a polygon) and bearing.

Few rows are involved, so every distance here is PostGIS geography's own (exact on the WGS 84
ellipsoid); the indexes on `geography(geom)` find the candidates.
"""

from __future__ import annotations

import json

import shapely
import sqlalchemy as sa

from gis.analysis.common import (
    NO_DATA_NOTICE,
    custom_plans,
    json_object_sql,
    properties_sql,
    quote,
    with_figures,
)
from gis.spec import LayerSpec, Role

# PostGIS orders geography KNN by distance on a sphere of radius 6,371,008.8 m, which lies between
# 0.9944 and 1.0045 times the ellipsoidal distance; a candidate further than the k-th exact
# distance / SPHERE_LOW on the sphere cannot be among the k nearest.
SPHERE_LOW = 0.994
EXTRA_CANDIDATES = 16

# The query geometry is written out (not taken from the CTE) wherever an index should use it:
# PostgreSQL uses an index for KNN order or a distance condition only against a constant.
QUERY = "ST_GeomFromText(:wkt, 4326)"

NEAREST_SQL = """
WITH q AS (
    SELECT {query} AS geom
),
candidates AS MATERIALIZED (
    SELECT t.id, geography(t.geom) <-> geography({query}) AS sphere_m,
           ST_Distance(geography(t.geom), geography({query})) AS distance_m
    FROM {table} t
    WHERE t.deleted_at IS NULL
    ORDER BY geography(t.geom) <-> geography({query})
    LIMIT :fetch
),
kth AS (
    SELECT max(distance_m) AS kth_m
    FROM (SELECT distance_m FROM candidates ORDER BY distance_m LIMIT :k) s
),
missed AS (
    -- Only when every candidate fetched could still be beaten (many features at nearly the same
    -- distance): then search the whole disc of the k-th exact distance.
    SELECT t.id, ST_Distance(geography(t.geom), geography({query})) AS distance_m
    FROM {table} t
    WHERE (SELECT count(*) FROM candidates) = :fetch
      AND (SELECT max(sphere_m) FROM candidates) <= (SELECT kth_m FROM kth) / :sphere_low
      AND t.deleted_at IS NULL
      AND ST_DWithin(geography(t.geom), geography({query}), (SELECT kth_m FROM kth))
),
chosen AS (
    SELECT id, min(distance_m) AS distance_m
    FROM (SELECT id, distance_m FROM candidates UNION ALL SELECT id, distance_m FROM missed) u
    GROUP BY id
    ORDER BY min(distance_m), id
    LIMIT :k
)
{answer}
"""

WITHIN_SQL = """
WITH q AS (
    SELECT {query} AS geom
),
chosen AS (
    SELECT t.id, ST_Distance(geography(t.geom), geography({query})) AS distance_m
    FROM {table} t
    WHERE t.deleted_at IS NULL AND ST_DWithin(geography(t.geom), geography({query}), :distance_m)
    ORDER BY 2, t.id
    LIMIT :limit_plus_one
)
{answer}
"""

# Bearing from the query point to the nearest point of each feature. PostGIS 3.3 has no
# geography ST_ClosestPoint, so that point is found on the plane scaled to metres at the query
# point's latitude (distortion well under 1 % within 100 km, a fraction of a degree of bearing),
# and the azimuth to it is geodesic. Distances never use that point.
ANSWER_SQL = """,
rows AS (
    SELECT t.*, c.distance_m,
           CASE WHEN c.distance_m > 0 AND :bearing THEN
               mod(CAST(degrees(ST_Azimuth(
                   geography(q.geom),
                   geography(ST_Affine(ST_ClosestPoint(ST_Affine(t.geom, f.kx, 0, 0, 1, 0, 0),
                                                       ST_Affine(q.geom, f.kx, 0, 0, 1, 0, 0)),
                                       1 / f.kx, 0, 0, 1, 0, 0)))) AS numeric) + 360, 360)
           END AS bearing_deg
    FROM (SELECT * FROM chosen ORDER BY distance_m, id LIMIT :limit) c
    JOIN {table} t ON t.id = c.id
    CROSS JOIN q
    CROSS JOIN LATERAL (SELECT cos(radians(ST_Y(ST_PointOnSurface(q.geom)))) AS kx) f
)
SELECT CAST(json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(json_build_object(
               'type', 'Feature', 'id', r.id,
               'geometry', CAST(ST_AsGeoJSON(r.geom, 7) AS json),
               'properties', {properties}) ORDER BY r.distance_m, r.id), '[]'),
           'summary', json_build_object(
               'layer', CAST(:layer AS text), 'count', count(r.id),
               'truncated', (SELECT count(*) FROM chosen) > :limit,
               'nearest_m', round(CAST(min(r.distance_m) AS numeric), 2)),
           'parameters', CAST(:parameters AS json),
           'notice', CAST(:notice AS text)
       ) AS text)
FROM rows r
"""


def _answer(spec: LayerSpec, role: Role) -> str:
    """The closing part shared by nearest and within: bearing, then the FeatureCollection."""
    figures = [
        ("layer", "CAST(:layer AS text)"),
        ("distance_m", "round(CAST(r.distance_m AS numeric), 2)"),
        ("bearing_deg", "round(r.bearing_deg, 1)"),
    ]
    pairs = with_figures(properties_sql(spec, spec.visible_fields(role), "r"), figures)
    return ANSWER_SQL.replace("{properties}", json_object_sql(pairs))


def _run(
    conn: sa.Connection, sql: str, spec: LayerSpec, role: Role, params: dict[str, object]
) -> bytes:
    text = (
        sql.replace("{answer}", _answer(spec, role))
        .replace("{table}", quote(spec.table.name))
        .replace("{query}", QUERY)
    )
    custom_plans(conn)
    params = {"layer": spec.name, "notice": NO_DATA_NOTICE, **params}
    params["parameters"] = json.dumps(params.pop("echo"))
    return conn.execute(sa.text(text), params).scalar_one().encode("utf-8")


def nearest(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    point: shapely.Point,
    k: int,
    echo: dict[str, object],
) -> bytes:
    """The k features of `spec` nearest to `point`, exactly ranked, as a FeatureCollection.

    KNN on the geography index ranks by distance on the sphere; a few more candidates than asked
    are measured on the ellipsoid and re-ranked, and when even the last of them could still be
    nearer than the k-th, the whole disc out to the k-th distance is searched.
    """
    params = {
        "wkt": point.wkt,
        "k": k,
        "fetch": k + EXTRA_CANDIDATES,
        "limit": k,
        "limit_plus_one": k,
        "sphere_low": SPHERE_LOW,
        "bearing": True,
        "echo": echo,
    }
    return _run(conn, NEAREST_SQL, spec, role, params)


def within(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    geometry: shapely.Geometry,
    distance_m: float,
    limit: int,
    echo: dict[str, object],
) -> bytes:
    """Features of `spec` within `distance_m` of a point, line or polygon, nearest first.

    At most `limit` features; the summary says `truncated` when there were more.
    """
    params = {
        "wkt": geometry.wkt,
        "distance_m": distance_m,
        "limit": limit,
        "limit_plus_one": limit + 1,
        "bearing": geometry.geom_type == "Point",
        "echo": echo,
    }
    return _run(conn, WITHIN_SQL, spec, role, params)
