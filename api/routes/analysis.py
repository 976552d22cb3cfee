"""`/analysis/...`: coverage, nearest, within, route check and people exposed.

Wiring only: every parameter is checked and every layer's access enforced in
`gis.analysis.answers`, which the CLI shares. Answers are GeoJSON built by PostgreSQL
(`f=json`, the default) or CSV (`f=csv`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from api.coverage_params import CoverageDep
from api.deps import EngineDep, PrincipalDep, RegistryDep, SettingsDep
from gis.analysis import answers
from gis.analysis.common import DISTANCE_RULE, TIME_RULE, csv_text
from gis.analysis.coverage import PRIORITY_FORMULA
from gis.notices import NOT_SAFE

router = APIRouter(prefix="/analysis", tags=["analysis"])

GEOJSON = "application/geo+json"
Format = Annotated[
    Literal["json", "csv"], Query(description="json: GeoJSON FeatureCollection; csv")
]
LayerName = Annotated[str, Query(description="Layer (collection) name, e.g. hazard_areas")]
Lon = Annotated[float | None, Query(description="Longitude, WGS 84 degrees (-180…180)")]
Lat = Annotated[float | None, Query(description="Latitude, WGS 84 degrees (-90…90)")]
GeoJSONBody = Annotated[dict[str, Any], Body(description="A GeoJSON Feature or bare geometry")]
WithinM = Annotated[float, Query(description="Geodesic distance in metres")]
WithinLimit = Annotated[int, Query(description="Most features returned")]


def _answer(body: bytes, f: str, name: str, leading: tuple[str, ...] = ()) -> Response:
    if f == "csv":
        return Response(
            csv_text(body, leading),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(body, media_type=GEOJSON)


@router.get(
    "/coverage",
    summary="Which targets near active hazards are not covered",
    description=(
        "Targets (default villages) within `risk_within_m` of an active (suspected or confirmed) "
        "hazard area, each marked covered when a `by` feature (default a risk-education session) "
        "lies within `within_m` in the window [`since`, `until`] (default the 365 days up to today). "
        "Distances are geodesic metres. Each target has at_risk, covered, nearest_hazard_m (the "
        "nearest active hazard within `risk_within_m`), hazards_within, nearest_by_m (the nearest "
        "covering feature), last_by_on (the latest `by` feature within reach on or before "
        "`until`), days_since_last, population and priority, and the answer is sorted by "
        f"priority: {PRIORITY_FORMULA} The summary gives at-risk, "
        "covered and uncovered targets, coverage % and people at risk / covered (known populations "
        "only), overall and per district. The risk condition reads the hazard areas, so it needs a "
        "key that may read them (partner or above); without one, ask with `risk_within_m=none`, "
        f"which reads no hazard and gives no hazard figures. {NOT_SAFE} {DISTANCE_RULE} "
        f"{TIME_RULE}"
    ),
    response_class=Response,
    responses={200: {"content": {GEOJSON: {}, "text/csv": {}}}},
)
def coverage(
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    params: CoverageDep,
    status: Annotated[
        Literal["uncovered", "covered", "all"], Query(description="Which targets to list")
    ] = "uncovered",
    f: Format = "json",
) -> Response:
    with engine.connect() as conn:
        answer = answers.coverage_answer(
            conn, registry, settings.analysis, principal.role, replace(params, status=status)
        )
        conn.commit()  # the measured pairs refreshed for this question are kept
    return _answer(answer.body, f, "coverage", ("external_id", "name", "district", "priority"))


@router.get(
    "/nearest",
    summary="The k nearest features of a layer",
    description="The `k` features of `layer` nearest to a point (lon/lat) or to a village "
    "(`village=ID`), with the geodesic distance in metres (0 inside a polygon) and the bearing "
    "(degrees from north: the geodesic azimuth to the nearest point) from the point. "
    + DISTANCE_RULE,
    response_class=Response,
)
def nearest(
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    layer: LayerName,
    lon: Lon = None,
    lat: Lat = None,
    village: Annotated[
        int | None, Query(description="Use this village's location (its id)")
    ] = None,
    k: Annotated[int, Query(description="How many features (1…1000)")] = 5,
    f: Format = "json",
) -> Response:
    with engine.connect() as conn:
        body = answers.nearest_answer(
            conn,
            registry,
            settings.analysis,
            principal.role,
            layer_name=layer,
            k=k,
            lon=lon,
            lat=lat,
            village=village,
        )
    return _answer(body, f, "nearest", ("distance_m", "bearing_deg"))


@router.get(
    "/within",
    summary="Features within a distance of a point",
    description="Every feature of `layer` within `distance_m` geodesic metres of lon/lat, nearest "
    "first, with its distance and bearing; at most `limit` (the summary says `truncated`). "
    + DISTANCE_RULE,
    response_class=Response,
)
def within_point(
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    layer: LayerName,
    lon: Lon = None,
    lat: Lat = None,
    distance_m: WithinM = 1000,
    limit: WithinLimit = 1000,
    f: Format = "json",
) -> Response:
    where = {"lon": lon, "lat": lat}
    return _within(engine, settings, registry, principal, layer, distance_m, limit, f, where)


def _within(
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    layer: str,
    distance_m: float,
    limit: int,
    f: str,
    where: dict[str, Any],
) -> Response:
    """One within answer for both faces: from a point (GET) or from a geometry (POST)."""
    with engine.connect() as conn:
        body = answers.within_answer(
            conn,
            registry,
            settings.analysis,
            principal.role,
            layer_name=layer,
            distance_m=distance_m,
            limit=limit,
            max_limit=settings.api.max_limit,
            **where,
        )
    return _answer(body, f, "within", ("distance_m",))


@router.post(
    "/within",
    summary="Features within a distance of a point, line or polygon",
    description="The body is a GeoJSON Point, LineString or Polygon (or a Feature holding one); "
    "every feature of `layer` within `distance_m` geodesic metres of it, nearest first. "
    + DISTANCE_RULE,
    response_class=Response,
)
def within_geometry(
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    body: GeoJSONBody,
    layer: LayerName,
    distance_m: WithinM = 1000,
    limit: WithinLimit = 1000,
    f: Format = "json",
) -> Response:
    where = {"geojson": body}
    return _within(engine, settings, registry, principal, layer, distance_m, limit, f, where)


@router.post(
    "/route-check",
    summary="Hazard areas along a planned route",
    description="The body is a GeoJSON LineString (or a Feature holding one). Every hazard area "
    "within `buffer_m` of the route, nearest first along it: its geodesic distance from the route, "
    "along_km (where the route comes closest, or enters it), crosses, type and status, and whether "
    "it is active (suspected and confirmed areas count as dangerous); then the facilities and "
    f"villages along the way. {NOT_SAFE} The answer says so. Hazard status is today's. "
    + DISTANCE_RULE,
    response_class=Response,
)
def route_check(
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    body: GeoJSONBody,
    buffer_m: Annotated[float, Query(description="Corridor half-width in metres")] = 500,
    f: Format = "json",
) -> Response:
    with engine.connect() as conn:
        checked = answers.route_answer(
            conn, registry, settings.analysis, principal.role, geojson=body, buffer_m=buffer_m
        )
    return _answer(checked.body, f, "route-check", ("layer", "along_km", "distance_m"))


@router.get(
    "/exposure",
    summary="People living near active hazard areas, per district",
    description="People within `within_m` geodesic metres of an active hazard area, per district: "
    "from the configured population raster (read window by window; `raster` names a configured "
    "key, never a path) or, without one, from the villages' known populations. The summary says "
    "which source was used and whether it is modelled: the demo raster is MODELLED from 1999 "
    "census district totals spread over places, not observed. From the villages, each village "
    "counts once, in one district (on a shared border the district asked for, else the lowest "
    "id), so the districts add up to the total; hazard status is today's. " + DISTANCE_RULE,
    response_class=Response,
)
def exposure(
    engine: EngineDep,
    settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    within_m: Annotated[
        float, Query(description="Distance from an active hazard area, metres")
    ] = 1000,
    district: Annotated[str | None, Query(description="One district (name or code)")] = None,
    raster: Annotated[
        str | None, Query(description="Key of a configured population raster")
    ] = None,
    f: Format = "json",
) -> Response:
    with engine.connect() as conn:
        body = answers.exposure_answer(
            conn,
            registry,
            settings.analysis,
            principal.role,
            within_m=within_m,
            district=district,
            raster=raster,
        )
    return _answer(body, f, "exposure", ("district", "district_code"))
