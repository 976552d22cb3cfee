"""Nearest and within: the features of a layer closest to a point, or within a distance of a
point, line or polygon, each with its geodesic distance (0 inside a polygon) and bearing.

PostgreSQL finds candidates with an index and a radius in degrees proven to leave none out
(`geodesic.search_degrees`); each candidate is measured by `gis.analysis.geodesic` (any shape,
edges straight in lon/lat, within 5 mm); PostgreSQL then builds the answer from those figures.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
import sqlalchemy as sa

from gis.analysis import geodesic
from gis.analysis.common import (
    NO_DATA_NOTICE,
    custom_plans,
    json_object_sql,
    properties_sql,
    with_figures,
)
from gis.analysis.sql import quote
from gis.spec import LayerSpec, Role

EXTRA_CANDIDATES = 16

# The k + EXTRA features nearest in the lon/lat plane: a first guess at the k-th distance, which
# then bounds the search (`nearest`).
GUESS_SQL = """
SELECT t.id FROM {table} t
WHERE t.deleted_at IS NULL
ORDER BY t.geom <-> ST_GeomFromText(:wkt, 4326)
LIMIT :fetch
"""

AROUND_SQL = """
SELECT t.id, ST_AsBinary(t.geom) AS wkb FROM {table} t
WHERE t.deleted_at IS NULL AND ST_DWithin(t.geom, ST_GeomFromText(:wkt, 4326), :degrees)
"""

# The measured features (id, distance, bearing: the geodesic azimuth to the nearest point), in
# order, become the FeatureCollection.
ANSWER_SQL = """
WITH chosen AS (
    SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:distances AS float8[]),
                         CAST(:bearings AS float8[])) WITH ORDINALITY AS c(id, distance_m, bearing_deg, n)
),
rows AS (
    SELECT t.*, c.distance_m, CAST(c.bearing_deg AS numeric) AS bearing_deg, c.n
    FROM chosen c
    JOIN {table} t ON t.id = c.id
)
SELECT CAST(json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(json_build_object(
               'type', 'Feature', 'id', r.id,
               'geometry', CAST(ST_AsGeoJSON(r.geom, 7) AS json),
               'properties', {properties}) ORDER BY r.n), '[]'),
           'summary', json_build_object(
               'layer', CAST(:layer AS text), 'count', count(r.id),
               'truncated', CAST(:truncated AS boolean),
               'nearest_m', round(CAST(min(r.distance_m) AS numeric), 2)),
           'parameters', CAST(:parameters AS json),
           'notice', CAST(:notice AS text)
       ) AS text)
FROM rows r
"""


def _run(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    found: list[tuple[int, float, float | None]],
    truncated: bool,
    echo: dict[str, object],
) -> bytes:
    text = ANSWER_SQL.replace("{table}", quote(spec.table.name))
    text = text.replace("{properties}", _properties(spec, role))
    params: dict[str, object] = {
        "layer": spec.name,
        "notice": NO_DATA_NOTICE,
        "ids": [f[0] for f in found],
        "distances": [f[1] for f in found],
        "bearings": [f[2] for f in found],
        "truncated": truncated,
        "parameters": json.dumps(echo),
    }
    custom_plans(conn)
    return conn.execute(sa.text(text), params).scalar_one().encode("utf-8")


def _properties(spec: LayerSpec, role: Role) -> str:
    figures = [
        ("layer", "CAST(:layer AS text)"),
        ("distance_m", "round(CAST(r.distance_m AS numeric), 2)"),
        ("bearing_deg", "round(r.bearing_deg, 1)"),
    ]
    return json_object_sql(
        with_figures(properties_sql(spec, spec.visible_fields(role), "r"), figures)
    )


def around(
    conn: sa.Connection, spec: LayerSpec, geometry: shapely.Geometry, distance_m: float
) -> tuple[list[int], list[shapely.Geometry]]:
    """Every live feature that may lie within `distance_m` of the geometry (none left out)."""
    max_lat = float(np.max(np.abs(shapely.get_coordinates(geometry)[:, 1])))
    degrees = geodesic.search_degrees(distance_m, max_lat)
    rows = conn.execute(
        sa.text(AROUND_SQL.format(table=quote(spec.table.name))),
        {"wkt": geometry.wkt, "degrees": degrees},
    ).all()
    return [int(r.id) for r in rows], list(shapely.from_wkb([r.wkb for r in rows]))


def measured(
    geometry: shapely.Geometry, ids: list[int], shapes: list[shapely.Geometry]
) -> list[tuple[int, float, float | None]]:
    """(id, distance, bearing or None) of each feature, nearest first (ties by id)."""
    m = geodesic.measure_from(geometry, shapes)
    keys = np.asarray(ids, dtype=np.int64)
    if len(keys) != len(m.distance_m):
        raise ValueError("one shape per id")
    order = np.lexsort((keys, m.distance_m))  # nearest first, ties by id
    distance, azimuth = m.distance_m[order], m.azimuth_deg[order]
    # a bearing only from a point, to a feature it is outside of (the azimuth is NaN at 0 m)
    shown = (distance > 0) & np.isfinite(azimuth) & (geometry.geom_type == "Point")
    bearing = np.round(azimuth, 6) % 360
    return [
        (i, d, b if s else None)
        for i, d, b, s in zip(
            keys[order].tolist(), distance.tolist(), bearing.tolist(), shown.tolist(), strict=True
        )
    ]


def nearest(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    point: shapely.Point,
    k: int,
    echo: dict[str, object],
) -> bytes:
    """The k features of `spec` nearest to `point`, ranked by their measured distance.

    A first guess (the k + 16 nearest in the lon/lat plane) gives an upper bound of the k-th
    distance; every feature that could be nearer lies within `search_degrees` of it, and all of
    those are measured.
    """
    table = quote(spec.table.name)
    guess = (
        conn.execute(
            sa.text(GUESS_SQL.format(table=table)),
            {"wkt": point.wkt, "fetch": k + EXTRA_CANDIDATES},
        )
        .scalars()
        .all()
    )
    found: list[tuple[int, float, float | None]] = []
    if guess:
        t = spec.table
        rows = conn.execute(
            sa.select(t.c.id, sa.func.ST_AsBinary(t.c.geom)).where(t.c.id.in_(guess))
        ).all()
        first = measured(
            point, [int(r[0]) for r in rows], list(shapely.from_wkb([r[1] for r in rows]))
        )
        kth = first[min(k, len(first)) - 1][1]
        ids, shapes = around(conn, spec, point, kth)
        found = measured(point, ids, shapes)[:k]
    return _run(conn, spec, role, found, False, echo)


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
    ids, shapes = around(conn, spec, geometry, distance_m)
    found = [f for f in measured(geometry, ids, shapes) if f[1] <= distance_m]
    return _run(conn, spec, role, found[:limit], len(found) > limit, echo)
