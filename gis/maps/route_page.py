"""The visit map of a planned route: the route check (`answers.route_answer`, its checks and access
rules) drawn — the corridor, the route, every hazard area in the corridor labelled with its distance
from the route and where along it, what lies along the way, and the check's notice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from gis.analysis import answers, common
from gis.maps import folium_map, names
from gis.maps.answer_layers import answered
from gis.maps.builders import BuiltMap, coordinates, day, metres
from gis.maps.data import DISTRICT, LOCAL, LayerData, collect
from gis.maps.elements import frame_for
from gis.roles import LayerRoles
from gis.settings import AnalysisSettings
from gis.spec import Registry, Role

# The route and its corridor as GeoJSON, and the corridor's box, in one statement. The corridor is
# geography's buffer (metres on the ground), to draw; the distances come from the route check.
CORRIDOR_SQL = sa.text("""
WITH r AS (SELECT ST_GeomFromText(:wkt, 4326) AS geom),
-- A zero-width corridor is the route itself (the buffer of a line by 0 m is empty: no extent).
c AS (
    SELECT CASE WHEN CAST(:buffer_m AS float8) > 0
                THEN CAST(ST_Buffer(geography(r.geom), :buffer_m) AS geometry)
                ELSE r.geom END AS geom
    FROM r
)
SELECT ST_AsGeoJSON(r.geom, 6), ST_AsGeoJSON(c.geom, 6), ST_AsEWKT(c.geom),
       ST_XMin(c.geom), ST_YMin(c.geom), ST_XMax(c.geom), ST_YMax(c.geom)
FROM r, c
""")


def route_visit(
    conn: sa.Connection,
    registry: Registry,
    analysis: AnalysisSettings,
    role: Role,
    *,
    geojson: Any,
    buffer_m: float = 500,
    download_href: str | None = None,
    lang: str = names.DEFAULT_LANG,
) -> BuiltMap:
    """The route check of `geojson` (a LineString, or a Feature holding one) on a map; place
    names in `lang` (names.py)."""
    names.checked(lang)
    roles = LayerRoles.of(registry, analysis)
    checked = answers.route_answer(
        conn, registry, analysis, role, geojson=geojson, buffer_m=buffer_m
    )
    answer: dict[str, Any] = json.loads(checked.body)
    route = common.geometry_from_geojson(geojson, ("LineString",), "route")  # checked just above
    summary, params = answer["summary"], answer["parameters"]
    buffer = float(params["buffer_m"])
    row = conn.execute(CORRIDOR_SQL, {"wkt": route.wkt, "buffer_m": buffer}).one()
    corridor_ewkt = row[2]
    by_layer: dict[str, dict[int, dict[str, object]]] = {}
    for feature in answer["features"]:
        props = feature["properties"]
        by_layer.setdefault(props["layer"], {})[int(feature["id"])] = _figures(props)
    layers: list[LayerData] = []
    hidden: list[str] = []
    boundaries = roles.areas
    if boundaries.readable_by(role):
        corridor = sa.func.ST_GeomFromEWKT(corridor_ewkt)
        layers.append(
            collect(
                conn,
                boundaries,
                role,
                DISTRICT,
                where=[sa.func.ST_Intersects(boundaries.table.c.geom, corridor)],
                lang=lang,
            )
        )
    hazard = params["hazard_layer"]
    for name in (hazard, *params["along_the_way"]):
        spec = registry[name]
        labels = [("from_route", "Distance from the route"), ("along", "Along the route")]
        if name == hazard:
            labels += [("crosses", "Crosses the route"), ("route_label", "On the route map")]
        layers.append(
            answered(
                conn,
                spec,
                role,
                LOCAL,
                by_layer.get(name, {}),
                labels,
                label_key="route_label" if name == hazard else None,
                lang=lang,
            )
        )
    for unread in roles.route_context:
        if not unread.readable_by(role):
            hidden.append(unread.title)
    start, end = route.coords[0], route.coords[-1]
    nothing = checked.active_hazards == 0
    frame = frame_for(
        layers,
        f"Route visit: {float(summary['route_length_km']):,.1f} km, corridor {metres(buffer)} each side",
        lines=(
            f"Start {coordinates(start[1], start[0])}; end {coordinates(end[1], end[0])}",
            f"Map of {day(dt.datetime.now(dt.UTC).date())}",
        ),
        facts=route_facts(summary, registry[hazard].title.lower()),
        hidden=hidden,
        hazards_title=registry[hazard].title,
        download_href=download_href,
        alert=answer["notice"],
        alert_strong=nothing,
    )
    m = folium_map.route_map(
        layers,
        frame,
        json.loads(row[0]),
        json.loads(row[1]),
        (float(row[3]), float(row[4]), float(row[5]), float(row[6])),
        base=roles.areas.name,
    )
    return BuiltMap(m, {layer.key: layer.count for layer in layers})


def _figures(props: dict[str, Any]) -> dict[str, object]:
    along = f"km {float(props['along_km']):,.1f}"
    distance = metres(float(props["distance_m"]))
    crosses = props.get("crosses")
    return {
        "from_route": distance,
        "along": along,
        "crosses": None if crosses is None else ("YES" if crosses else "no"),
        "route_label": f"crossed at {along}" if crosses else f"{distance} from the route, {along}",
    }


def route_facts(summary: dict[str, Any], hazards: str) -> list[str]:
    """The route check's summary, as the panel shows it."""
    buffer = metres(float(summary["buffer_m"]))
    facts = []
    if summary["hazards"]:
        line = (
            f"{summary['hazards']:,} {hazards} within {buffer} of the route, "
            f"{summary['hazards_active']:,} of them active (suspected or confirmed)"
        )
        if summary["crossing_active"]:
            line += f"; the route CROSSES {summary['crossing_active']:,} active"
        if summary.get("nearest_active_m") is not None:
            line += (
                f"; nearest active {metres(float(summary['nearest_active_m']))} from the "
                f"route, first at km {float(summary['first_active_at_km']):,.1f}"
            )
        facts.append(line + ".")
    else:
        facts.append(f"No {hazards} on record within {buffer} of the route.")
    along = summary.get("along_the_way") or {}
    if along:
        facts.append("Along the way: " + ", ".join(_count(n, k) for k, n in along.items()) + ".")
    return facts


def _count(n: int, layer: str) -> str:
    """'1 village', '6 villages', '1 facility': layer names are plurals in -s or -ies."""
    noun = layer.replace("_", " ")
    if n == 1:
        noun = noun[:-3] + "y" if noun.endswith("ies") else noun.removesuffix("s")
    return f"{n:,} {noun}"
