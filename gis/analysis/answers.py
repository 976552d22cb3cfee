"""The analyses as a caller asks them: raw parameters and a role in, a checked answer out.

The API routes and the CLI both come through here, so they check parameters, resolve layer names
and enforce access the same way. A layer the caller may not read answers exactly as one that does
not exist; hazard-derived figures need a role that may read the hazard layer.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import shapely
import sqlalchemy as sa

from gis.analysis import common
from gis.analysis.coverage import CoverageAnswer, coverage_question, run_coverage
from gis.analysis.exposure import Exposure, Raster, people_exposed
from gis.analysis.proximity import nearest, within
from gis.analysis.route import RouteCheck, check_route
from gis.areas import find_area
from gis.errors import InvalidParameter, NotFound
from gis.roles import LayerRoles
from gis.settings import AnalysisSettings
from gis.spec import LayerSpec, Registry, Role


def layer(registry: Registry, role: Role, name: str | None, param: str = "layer") -> LayerSpec:
    """A layer the caller may read; unknown and unreadable layers get the same NotFound."""
    if not name:
        raise InvalidParameter(f"{param} is required: the name of a layer")
    spec = registry.get(name)
    if spec is None or not spec.readable_by(role):
        raise NotFound(f"no collection '{name[:100]}' ({param})")
    return spec


@dataclass(frozen=True)
class CoverageAsk:
    """A coverage question as asked, typed (the API's, the CLI's and the maps' parameters), before
    it is checked against the layers and the settings by `coverage_answer`."""

    target: str | None = None
    by: str | None = None
    within_m: float = 2000
    risk_within_m: float | None = 5000.0  # None: no risk condition
    since: dt.date | None = None
    until: dt.date | None = None
    district: str | None = None
    status: str = "uncovered"

    @classmethod
    def from_text(
        cls,
        *,
        risk_within_m: str | float | None = "5000",
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        **rest: Any,
    ) -> CoverageAsk:
        """From text as a command line gives it: dates as YYYY-MM-DD, the risk distance in metres
        or 'none'; InvalidParameter names what is wrong."""
        return cls(
            risk_within_m=risk_distance(risk_within_m),
            since=day("since", since),
            until=day("until", until),
            **rest,
        )


def day(name: str, value: str | dt.date | None) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(f"{name} must be a date as YYYY-MM-DD, not '{value[:40]}'") from None


def risk_distance(value: str | float | None) -> float | None:
    """`risk_within_m`: metres, or 'none' (or nothing) to drop the risk condition."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "")):
        return None
    try:
        metres = float(value)
    except ValueError:
        metres = math.nan
    if not math.isfinite(metres):  # 'nan', 'inf' and '1e309' read as floats, but are no distance
        raise InvalidParameter(
            f"risk_within_m must be a distance in metres or 'none', not '{str(value)[:40]}'"
        )
    return metres


def coverage_answer(
    conn: sa.Connection,
    registry: Registry,
    settings: AnalysisSettings,
    role: Role,
    ask: CoverageAsk,
) -> CoverageAnswer:
    """Coverage of `target` by `by`: the checked question and PostgreSQL's GeoJSON answer."""
    roles = LayerRoles.of(registry, settings)
    target_spec = layer(registry, role, ask.target or roles.places.name, "target")
    by_spec = layer(registry, role, ask.by or roles.activities.name, "by")
    within = common.distance_m("within_m", ask.within_m, settings.max_distance_m, allow_zero=True)
    risk = (
        None
        if ask.risk_within_m is None
        else common.distance_m(
            "risk_within_m", ask.risk_within_m, settings.max_distance_m, allow_zero=False
        )
    )
    area = layer(registry, role, roles.areas.name, "district")
    found = find_area(conn, area, ask.district) if ask.district is not None else None
    question = coverage_question(
        target=target_spec,
        by=by_spec,
        area=area,
        hazard=roles.hazards,
        role=role,
        within_m=within,
        risk_within_m=risk,
        since=ask.since,
        until=ask.until,
        area_id=found.id if found else None,
        area_label=found.label if found else None,
        status=ask.status,
        unknown_population=settings.unknown_population,
    )
    return run_coverage(conn, question)


def point_of(
    conn: sa.Connection,
    registry: Registry,
    settings: AnalysisSettings,
    role: Role,
    lon: float | None,
    lat: float | None,
    village: int | None,
) -> tuple[shapely.Point, dict[str, object]]:
    """The query point: lon/lat, or the location of a feature of the place layer (?village=ID)."""
    if village is not None:
        if lon is not None or lat is not None:
            raise InvalidParameter("give either lon and lat or village, not both")
        places = layer(registry, role, LayerRoles.of(registry, settings).places.name, "village")
        t = places.table
        row = conn.execute(
            sa.select(sa.func.ST_X(t.c.geom), sa.func.ST_Y(t.c.geom)).where(
                t.c.id == village, t.c.deleted_at.is_(None)
            )
        ).first()
        if row is None:
            raise NotFound(f"no {places.name} feature with id {village} (village)")
        return shapely.Point(row[0], row[1]), {"village": village}
    if lon is None or lat is None:
        raise InvalidParameter("give lon and lat (WGS 84 degrees), or village=ID")
    x, y = common.lon_lat(lon, lat)
    return shapely.Point(x, y), {"lon": x, "lat": y}


def nearest_answer(
    conn: sa.Connection,
    registry: Registry,
    settings: AnalysisSettings,
    role: Role,
    *,
    layer_name: str | None,
    k: int = 5,
    lon: float | None = None,
    lat: float | None = None,
    village: int | None = None,
) -> bytes:
    spec = layer(registry, role, layer_name)
    k = common.nearest_count(k)
    point, where = point_of(conn, registry, settings, role, lon, lat, village)
    return nearest(conn, spec, role, point, k, {"layer": spec.name, "k": k, **where})


def within_answer(
    conn: sa.Connection,
    registry: Registry,
    settings: AnalysisSettings,
    role: Role,
    *,
    layer_name: str | None,
    distance_m: float,
    max_limit: int,
    limit: int = 1000,
    lon: float | None = None,
    lat: float | None = None,
    geojson: Any = None,
) -> bytes:
    """Within a distance of a point (lon/lat) or of a GeoJSON Point, LineString or Polygon."""
    spec = layer(registry, role, layer_name)
    distance = common.distance_m("distance_m", distance_m, settings.max_distance_m)
    if not 1 <= limit <= max_limit:
        raise InvalidParameter(f"limit must be between 1 and {max_limit}, not {limit}")
    if geojson is not None:
        geometry = common.geometry_from_geojson(geojson, ("Point", "LineString", "Polygon"))
        where: dict[str, object] = {"geometry": geometry.geom_type}
    else:
        if lon is None or lat is None:
            raise InvalidParameter("give lon and lat (WGS 84 degrees)")
        x, y = common.lon_lat(lon, lat)
        geometry, where = shapely.Point(x, y), {"lon": x, "lat": y}
    echo = {"layer": spec.name, "distance_m": distance, "limit": limit, **where}
    return within(conn, spec, role, geometry, distance, limit, echo)


def route_answer(
    conn: sa.Connection,
    registry: Registry,
    settings: AnalysisSettings,
    role: Role,
    *,
    geojson: Any,
    buffer_m: float = 500,
) -> RouteCheck:
    route = common.geometry_from_geojson(geojson, ("LineString",), "route")
    buffer = common.distance_m("buffer_m", buffer_m, settings.max_distance_m)
    roles = LayerRoles.of(registry, settings)
    return check_route(
        conn, route, buffer, roles.hazards, list(roles.route_context), role, settings.max_route_km
    )


def exposure_answer(
    conn: sa.Connection,
    registry: Registry,
    settings: AnalysisSettings,
    role: Role,
    *,
    within_m: float = 1000,
    district: str | None = None,
    raster: str | None = None,
) -> bytes:
    distance = common.distance_m("within_m", within_m, settings.max_distance_m)
    roles = LayerRoles.of(registry, settings)
    area = layer(registry, role, roles.areas.name, "district")
    found = find_area(conn, area, district) if district is not None else None
    key = raster if raster is not None else settings.population_raster
    if key is not None and key not in settings.rasters:
        if raster is not None:  # asked for by the caller: name the keys there are
            raise InvalidParameter(
                f"unknown raster '{raster[:40]}'; rasters: {', '.join(settings.rasters) or 'none'}"
            )
        key = None
    chosen = Raster(key, settings.raster_path(key)) if key is not None else None
    question = Exposure(
        hazard=roles.hazards,
        area=area,
        places=roles.places,
        within_m=distance,
        area_id=found.id if found else None,
        role=role,
        area_label=found.label if found else None,
    )
    return people_exposed(conn, question, chosen)
