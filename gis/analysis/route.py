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

import shapely
import sqlalchemy as sa

from gis.analysis.common import (
    NO_DATA_NOTICE,
    custom_plans,
    geodesic_length_m,
    json_object_sql,
    properties_sql,
    quote,
    with_figures,
)
from gis.analysis.route_work import check_route_work
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

# The route, densified along geodesics to 1 km pieces so that each piece's box is tight around its
# corridor and a straight piece in degrees stays within millimetres of the geodesic one.
ROUTE_SQL = """
WITH r AS (
    SELECT g.geom, geography(g.geom) AS geog,
           cos(radians(ST_Y(ST_Centroid(g.geom)))) AS kx
    FROM (SELECT CAST(ST_GeomFromText(:wkt, 4326) AS geometry) AS geom) g
),
pieces AS MATERIALIZED (
    SELECT (d).geom AS geom
    FROM r, ST_DumpSegments(CAST(ST_Segmentize(r.geog, 1000) AS geometry)) d
),
{candidates}
found AS (
{blocks}
)
SELECT CAST(json_build_object(
           'type', 'FeatureCollection',
           'features', coalesce(json_agg(f.feature ORDER BY f.layer_order, f.along_m, f.distance_m), '[]'),
           'summary', json_build_object(
               'route_length_km', round(CAST((SELECT ST_Length(geog) FROM r) / 1000 AS numeric), 3),
               'buffer_m', CAST(:buffer_m AS float8),
               'hazards', count(*) FILTER (WHERE f.layer_order = 0),
               'hazards_active', count(*) FILTER (WHERE f.active),
               'crossing_active', count(*) FILTER (WHERE f.active AND f.crosses),
               'nearest_active_m', round(CAST(min(f.distance_m) FILTER (WHERE f.active) AS numeric), 2),
               'first_active_at_km', round(CAST(min(f.along_m) FILTER (WHERE f.active) / 1000 AS numeric), 3),
               'along_the_way', (SELECT coalesce(json_object_agg(layer, n), '{}')
                                 FROM (SELECT layer, count(*) AS n FROM found
                                       WHERE layer_order > 0 GROUP BY layer) c)),
           'parameters', CAST(:parameters AS json)
       ) AS text),
       count(*) FILTER (WHERE f.active)
FROM found f
"""

# Per layer, the features whose box meets a piece's box grown by the buffer: a superset of those
# within the buffer (a degree of latitude is at least 110,574 m, of longitude at least
# 111,319 m × cos(latitude)), found by the index, measured exactly after.
CANDIDATES_SQL = """near_{order} AS MATERIALIZED (
    SELECT DISTINCT t.id
    FROM pieces p JOIN {table} t
      ON t.geom && ST_Expand(p.geom,
             :buffer_m * 1.01 / (111319.49 * cos(radians(least(89.0,
                 greatest(abs(ST_YMin(p.geom)), abs(ST_YMax(p.geom))))))) + 1e-7,
             :buffer_m * 1.01 / 110574.0 + 1e-7)
    WHERE t.deleted_at IS NULL
),"""

# One block per layer. The entry (or closest) point is found on the plane scaled at the route's
# mean latitude; the distance is geography's, and the km along are geodesic on the route itself.
BLOCK_SQL = """
    SELECT {order} AS layer_order, CAST(:layer_{order} AS text) AS layer, c.distance_m,
           a.along_m, c.crosses, c.active,
           json_build_object('type', 'Feature', 'id', c.id,
                             'geometry', CAST(ST_AsGeoJSON(c.geom, 7) AS json),
                             'properties', {properties}) AS feature
    FROM (
        SELECT x.*, CASE WHEN x.crosses THEN
                        (SELECT min(ST_LineLocatePoint(x.rs, (p).geom))
                         FROM ST_DumpPoints(ST_Intersection(x.rs, x.fs)) p)
                    ELSE ST_LineLocatePoint(x.rs, ST_ClosestPoint(x.rs, x.fs)) END AS fraction
        FROM (
            SELECT t.*, d.distance_m, r.kx, d.distance_m = 0 AND {polygonal} AS crosses,
                   {active} AS active,
                   ST_Affine(r.geom, r.kx, 0, 0, 1, 0, 0) AS rs,
                   ST_Affine(t.geom, r.kx, 0, 0, 1, 0, 0) AS fs
            FROM (SELECT t.* FROM near_{order} n JOIN {table} t ON t.id = n.id OFFSET 0) t
            CROSS JOIN r
            CROSS JOIN LATERAL (SELECT ST_Distance(geography(t.geom), r.geog) AS distance_m) d
            WHERE d.distance_m <= :buffer_m
        ) x
    ) c
    CROSS JOIN LATERAL (
        SELECT ST_Length(geography(ST_Affine(ST_LineSubstring(c.rs, 0, c.fraction),
                                             1 / c.kx, 0, 0, 1, 0, 0))) AS along_m
    ) a"""


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
    params: dict[str, object] = {"wkt": route.wkt, "buffer_m": buffer_m}
    blocks = [_block(i, spec, role, spec is hazard, params) for i, spec in enumerate(layers)]
    params["parameters"] = json.dumps(
        {
            "buffer_m": buffer_m,
            "hazard_layer": hazard.name,
            "along_the_way": [s.name for s in layers[1:]],
        }
    )
    custom_plans(conn)
    candidates = "\n".join(
        CANDIDATES_SQL.format(order=i, table=quote(s.table.name)) for i, s in enumerate(layers)
    )
    sql = ROUTE_SQL.replace("{candidates}", candidates).replace(
        "{blocks}", "\n    UNION ALL\n".join(blocks)
    )
    text, active = conn.execute(sa.text(sql), params).one()
    notice = EMPTY_NOTICE.format(buffer=buffer_m) if not active else NO_DATA_NOTICE
    # The notice goes in last so that no client can miss it, whatever it does with the rest.
    body = text[:-1] + ', "notice": ' + json.dumps(notice) + "}"
    return RouteCheck(body.encode("utf-8"), int(active))


def _block(
    order: int, spec: LayerSpec, role: Role, is_hazard: bool, params: dict[str, object]
) -> str:
    params[f"layer_{order}"] = spec.name
    figures = [
        ("layer", f"CAST(:layer_{order} AS text)"),
        ("distance_m", "round(CAST(c.distance_m AS numeric), 2)"),
        ("along_km", "round(CAST(a.along_m / 1000 AS numeric), 3)"),
    ]
    if is_hazard:
        figures += [("crosses", "c.crosses"), ("active", "c.active")]
    pairs = with_figures(properties_sql(spec, spec.visible_fields(role), "c"), figures)
    active = "false"
    if is_hazard:
        conditions = []
        for i, (column, values) in enumerate(sorted(spec.active_filter.items())):
            params[f"active_{i}"] = list(values)
            conditions.append(f"t.{quote(column)} = ANY(:active_{i})")
        active = " AND ".join(conditions) or "true"
    return BLOCK_SQL.format(
        order=order,
        table=quote(spec.table.name),
        properties=json_object_sql(pairs),
        polygonal="true" if spec.geometry_type != "Point" else "false",
        active=active,
    )
