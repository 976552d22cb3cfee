"""Route check: the hazard areas along a planned route's corridor, and what else lies on the way.

For each hazard area within `buffer_m` of the route: its geodesic distance from the route, where
along the route (km from the start) it comes closest — or, when the route crosses it, where the
route enters it — whether the route crosses it, and its type and status. Facilities and villages
(the configured context layers) follow with their distance and position. The answer always says
that finding nothing does not make a route safe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import shapely
import sqlalchemy as sa

from gis.analysis import geodesic, sql
from gis.analysis.common import (
    NO_DATA_NOTICE,
    active_sql,
    custom_plans,
    geodesic_length_m,
    json_object_sql,
    properties_sql,
    with_figures,
)
from gis.analysis.route_work import check_route_work
from gis.analysis.sql import quote
from gis.errors import Forbidden, InvalidParameter
from gis.spec import LayerSpec, Role

# Candidates × route positions a route check may measure: a few seconds on a 2-core machine.
DEFAULT_MAX_WORK = 2_000_000

EMPTY_NOTICE = (
    "No mapped hazard area lies within {buffer:,.0f} m of this route. This does NOT mean the route "
    "is safe: hazard maps are incomplete, and most recent mine incidents in the region happened "
    "outside mapped hazard areas. Stay on used, hard-surfaced roads and ask local people and "
    "mine-action operators before travelling."
)

# Every live feature of a layer that may lie within the buffer of the route: ST_DWithin in
# degrees with a radius proven to leave none out (geodesic.search_degrees), the route itself the
# index's query. Each is then measured by gis.analysis.geodesic.
CANDIDATES_SQL = """
SELECT t.id, ST_AsBinary(t.geom) AS wkb FROM {table} t
WHERE t.deleted_at IS NULL AND ST_DWithin(t.geom, ST_GeomFromText(:wkt, 4326), :degrees)
"""

ROUTE_SQL = """
WITH measured AS (
    SELECT * FROM unnest(CAST(:orders AS int[]), CAST(:ids AS bigint[]),
                         CAST(:distances AS float8[]), CAST(:alongs AS float8[]))
                  AS m(layer_order, id, distance_m, along_m)
),
found AS (
{blocks}
)
SELECT CAST(json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(f.feature ORDER BY f.layer_order, f.along_m, f.distance_m), '[]'),
           'summary', json_build_object(
               'route_length_km', round(CAST(:length_m / 1000 AS numeric), 3),
               'buffer_m', CAST(:buffer_m AS float8),
               'hazards', count(*) FILTER (WHERE f.layer_order = 0),
               'hazards_active', count(*) FILTER (WHERE f.active),
               'crossing_active', count(*) FILTER (WHERE f.active AND f.crosses),
               'nearest_active_m', round(CAST(min(f.distance_m) FILTER (WHERE f.active) AS numeric), 2),
               'first_active_at_km', round(CAST(min(f.along_m) FILTER (WHERE f.active) / 1000 AS numeric), 3),
               'along_the_way', (SELECT coalesce(json_object_agg(layer, n), '{}')
                                 FROM (SELECT layer, count(*) AS n FROM found
                                       WHERE layer_order > 0 GROUP BY layer) c)),
           'parameters', CAST(:parameters AS json),
           -- Last, so that no client can miss it, whatever it does with the rest.
           'notice', CASE WHEN count(*) FILTER (WHERE f.active) = 0 THEN CAST(:empty_notice AS text)
                          ELSE CAST(:notice AS text) END
       ) AS text),
       count(*) FILTER (WHERE f.active)
FROM found f
"""

# One block per layer: the measured features of that layer with their properties.
BLOCK_SQL = """
    SELECT {order} AS layer_order, CAST(:layer_{order} AS text) AS layer, m.distance_m,
           m.along_m, m.distance_m = 0 AND {polygonal} AS crosses, {active} AS active,
           json_build_object('type', 'Feature', 'id', t.id,
                             'geometry', CAST(ST_AsGeoJSON(t.geom, 7) AS json),
                             'properties', {properties}) AS feature
    FROM measured m
    JOIN {table} t ON t.id = m.id
    WHERE m.layer_order = {order}"""


@dataclass(frozen=True)
class RouteCheck:
    """The answer (a FeatureCollection as UTF-8 JSON) and how many active hazards it lists."""

    body: bytes
    active_hazards: int


def check_route(
    conn: sa.Connection,
    route: shapely.LineString,
    buffer_m: float,
    hazard: LayerSpec | None,
    context: list[LayerSpec],
    role: Role,
    max_route_km: float,
    max_work: int = DEFAULT_MAX_WORK,
) -> RouteCheck:
    """Every hazard area within `buffer_m` of the route, then the context layers' features.

    `hazard` is None when the caller may not read the hazard layer: a route check without
    hazards would read as "nothing found", so it is refused rather than answered half.
    """
    if hazard is None or not hazard.readable_by(role):
        raise Forbidden(
            "a route check reads the hazard areas, which need an API key of a partner or above"
        )
    length_km = geodesic_length_m(route) / 1000
    if length_km > max_route_km:
        raise InvalidParameter(
            f"the route is {length_km:,.1f} km long; route checks accept at most "
            f"{max_route_km:,.0f} km (SAFEGROUND_ANALYSIS_MAX_ROUTE_KM)"
        )
    layers = [hazard, *(s for s in context if s.readable_by(role) and s.name != hazard.name)]
    check_route_work(conn, route, buffer_m, layers, max_work)
    degrees = geodesic.search_degrees(
        buffer_m, float(np.max(np.abs(shapely.get_coordinates(route)[:, 1])))
    )
    orders: list[int] = []
    ids: list[int] = []
    distances: list[float] = []
    alongs: list[float] = []
    for order, spec in enumerate(layers):
        rows = conn.execute(
            sa.text(CANDIDATES_SQL.format(table=quote(spec.table.name))),
            {"wkt": route.wkt, "degrees": degrees},
        ).all()
        if not rows:
            continue
        m = geodesic.measure_from(route, list(shapely.from_wkb([r.wkb for r in rows])))
        for r, d, lon, lat in zip(rows, m.distance_m, m.lon, m.lat, strict=True):
            if d <= buffer_m:
                orders.append(order)
                ids.append(int(r.id))
                distances.append(float(d))
                alongs.append(geodesic.along_m(route, float(lon), float(lat)))
    params: dict[str, object] = {
        "orders": orders,
        "ids": ids,
        "distances": distances,
        "alongs": alongs,
        "length_m": length_km * 1000,
        "buffer_m": buffer_m,
        "notice": NO_DATA_NOTICE,
        "empty_notice": EMPTY_NOTICE.format(buffer=buffer_m),
        "parameters": json.dumps(
            {
                "buffer_m": buffer_m,
                "hazard_layer": hazard.name,
                "along_the_way": [s.name for s in layers[1:]],
            }
        ),
    }
    blocks = [_block(i, spec, role, spec is hazard, params) for i, spec in enumerate(layers)]
    custom_plans(conn)
    statement = ROUTE_SQL.replace("{blocks}", "\n    UNION ALL\n".join(blocks))
    text, active = conn.execute(sa.text(statement), params).one()
    return RouteCheck(text.encode("utf-8"), int(active))


def _block(
    order: int, spec: LayerSpec, role: Role, is_hazard: bool, params: dict[str, object]
) -> str:
    params[f"layer_{order}"] = spec.name
    figures = [
        ("layer", f"CAST(:layer_{order} AS text)"),
        ("distance_m", "round(CAST(m.distance_m AS numeric), 2)"),
        ("along_km", "round(CAST(m.along_m / 1000 AS numeric), 3)"),
    ]
    # Route checks are about going now: the status as of today.
    active = f"({active_sql('t', spec, params)})" if is_hazard else "false"
    polygonal = "true" if spec.geometry_type != "Point" else "false"
    if is_hazard:
        figures += [("crosses", f"(m.distance_m = 0 AND {polygonal})"), ("active", active)]
    pairs = with_figures(properties_sql(spec, spec.visible_fields(role), "t"), figures)
    return sql.fill(
        BLOCK_SQL,
        {
            "order": str(order),
            "table": quote(spec.table.name),
            "properties": json_object_sql(pairs),
            "polygonal": polygonal,
            "active": active,
        },
    )
