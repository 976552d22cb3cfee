"""`/maps/...`: the Folium maps as pages, or as one self-contained file to take offline.

Pages link Leaflet and its plugins from `/maps/assets/` (the npm packages, served here), so they
work on a LAN with no internet; `offline=true` inlines everything into one file to download.
Coverage maps (`/maps/coverage`) and route visits (`POST /maps/visit`) draw the analyses' answers,
checked and access-controlled by `gis.analysis.answers` exactly as `/analysis/...` is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.routing import APIRoute

from api.coverage_params import CoverageDep
from api.deps import EngineDep, PrincipalDep, RegistryDep, RolesDep, SettingsDep
from gis.errors import InvalidParameter
from gis.maps import (
    builders,
    choropleth,
    coverage_page,
    folium_map,
    names,
    nearby,
    route_page,
)
from gis.maps.assets import MapAssets, MapSettings, media_type, served_file
from gis.notices import NOT_SAFE
from gis.templating import render

# Parameters every route takes besides its own: the key (gis/access, api/deps).
COMMON_PARAMETERS = frozenset({"api_key"})
TEMPLATES = FilePath(__file__).resolve().parents[1] / "templates"


async def _known_parameters(request: Request) -> None:
    """A map asked with a parameter it does not take (`f=pdf`, a typo) answers 400 naming it,
    rather than a map that silently ignored it."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known - COMMON_PARAMETERS)
    if unknown:
        raise InvalidParameter(
            f"unknown parameter(s) {', '.join(unknown)} for {request.url.path}: "
            f"it takes {', '.join(sorted(known)) or 'none'}"
        )


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


router = APIRouter(prefix="/maps", tags=["maps"], dependencies=[Depends(_known_parameters)])


def _map_settings(request: Request) -> MapSettings:
    # Built on first use, once per app (never at import), like the app's other settings.
    if not hasattr(request.app.state, "map_settings"):
        request.app.state.map_settings = MapSettings()
    return request.app.state.map_settings


MapSettingsDep = Annotated[MapSettings, Depends(_map_settings)]
OfflineQuery = Annotated[
    bool,
    Query(
        description="One self-contained HTML file (Leaflet and its plugins inlined, no network "
        "needed to open it), sent as a download."
    ),
]

LangQuery = Annotated[
    names.Lang,
    Query(
        description="The language of place and district names on the map (labels, tooltips, "
        "popups): az (Azerbaijani, the default), en or ru, each falling back to the Azerbaijani "
        "name where a place has none; popups also show the names as recorded."
    ),
]


DangerQuery = Annotated[
    float,
    Query(
        ge=folium_map.MIN_DANGER_M,
        le=folium_map.MAX_DANGER_M,
        description="How near a hazard area (metres) the locate button warns",
    ),
]


def _page(
    settings: MapSettings,
    page: builders.BuiltMap,
    offline: bool,
    filename: str,
    danger_m: float = folium_map.DEFAULT_DANGER_M,
) -> HTMLResponse:
    # Relative asset URLs keep working behind a proxy that mounts the app under a prefix.
    html = folium_map.render(
        page.map,
        MapAssets.from_settings(settings, inline=offline, base_url="assets"),
        danger_m=danger_m,
    )
    headers = {"Cache-Control": "private, max-age=0"}
    if offline:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return HTMLResponse(html, headers=headers)


def _offline_href(request: Request) -> str:
    """The page's own parameters and offline=true; never the key (a link is copied, logged,
    shared): a key travels in the X-API-Key header."""
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("offline", "api_key")
    ]
    return "?" + urlencode([*kept, ("offline", "true")])


@router.get("", response_class=HTMLResponse, summary="The maps", include_in_schema=False)
def index() -> HTMLResponse:
    return HTMLResponse(render(TEMPLATES, "maps_index.html", not_safe=NOT_SAFE))


@router.get(
    "/overview", response_class=HTMLResponse, summary="Overview map of every layer you may read"
)
def overview(
    request: Request,
    engine: EngineDep,
    app_settings: SettingsDep,
    roles: RolesDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    settings: MapSettingsDep,
    district: Annotated[
        str | None,
        Query(max_length=100, description="District name or code (case-insensitive), e.g. Aghdam"),
    ] = None,
    since: Annotated[
        dt.date | None,
        Query(description="Only activities on or after this date (hazard areas: all)"),
    ] = None,
    shade: Annotated[
        choropleth.Shade | None,
        Query(
            description="Shade the districts by a figure of the analyses: hazard_km2 (active "
            "hazard area inside the district, km², geodesic), villages_at_risk (the coverage "
            "analysis' villages at risk) or coverage (% of those covered, in the `since` window); "
            "a district without the figure is hatched 'no data — not safe'. Needs an API key "
            "that reads the hazard areas."
        ),
    ] = None,
    offline: OfflineQuery = False,
    danger_m: DangerQuery = folium_map.DEFAULT_DANGER_M,
    lang: LangQuery = names.DEFAULT_LANG,
) -> HTMLResponse:
    with engine.connect() as conn:
        page = builders.overview(
            conn,
            registry,
            principal.role,
            district=district,
            since=since,
            download_href=None if offline else _offline_href(request),
            roles=roles,
            tiled=not offline,  # a file carries its features; a page reads the big layers' tiles
            shade=shade,
            analysis=app_settings.analysis,
            lang=lang,
        )
    return _page(settings, page, offline, "safeground-overview.html", danger_m)


@router.get(
    "/visit",
    response_class=HTMLResponse,
    summary="Printable map of a place and what lies within reach",
)
def visit(
    request: Request,
    engine: EngineDep,
    roles: RolesDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    settings: MapSettingsDep,
    village: Annotated[
        str | None,
        Query(max_length=200, description="Village id or name (any language or spelling)"),
    ] = None,
    district: Annotated[
        str | None,
        Query(
            max_length=200,
            description="District (name or code) when several villages share the name",
        ),
    ] = None,
    lon: Annotated[
        float | None, Query(ge=-180, le=180, description="Longitude of the centre")
    ] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude of the centre")] = None,
    radius_m: Annotated[
        float, Query(ge=nearby.MIN_RADIUS_M, le=nearby.MAX_RADIUS_M, description="Reach, in metres")
    ] = nearby.DEFAULT_RADIUS_M,
    offline: OfflineQuery = False,
    danger_m: DangerQuery = folium_map.DEFAULT_DANGER_M,
    lang: LangQuery = names.DEFAULT_LANG,
) -> HTMLResponse:
    with engine.connect() as conn:
        page = builders.visit(
            conn,
            registry,
            principal.role,
            village=village,
            district=district,
            lon=lon,
            lat=lat,
            radius_m=radius_m,
            download_href=None if offline else _offline_href(request),
            roles=roles,
            lang=lang,
        )
    return _page(settings, page, offline, "safeground-visit.html", danger_m)


@router.get(
    "/coverage",
    response_class=HTMLResponse,
    summary="Coverage map: targets near hazards, covered or not",
    description="The coverage analysis (`/analysis/coverage`, same parameters, same access rules) "
    "on a map: uncovered targets at risk in red, sized by population or priority; covered ones "
    "muted; the hazard areas and the `by` features of the window; the summary figures and the "
    "parameters in the panel. Targets not at risk are not drawn; `status` (default all) chooses "
    "among those at risk. Without an API key, ask with `risk_within_m=none`.",
)
def coverage(
    request: Request,
    engine: EngineDep,
    app_settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    settings: MapSettingsDep,
    params: CoverageDep,
    status: Annotated[
        Literal["uncovered", "covered", "all"], Query(description="Which at-risk targets to draw")
    ] = "all",
    rings: Annotated[
        bool,
        Query(description="Draw the within_m and risk_within_m rings around uncovered targets"),
    ] = False,
    size_by: Annotated[
        Literal["population", "priority"], Query(description="What sizes an uncovered target")
    ] = "population",
    offline: OfflineQuery = False,
    danger_m: DangerQuery = folium_map.DEFAULT_DANGER_M,
    lang: LangQuery = names.DEFAULT_LANG,
) -> HTMLResponse:
    with engine.connect() as conn:
        page = coverage_page.coverage(
            conn,
            registry,
            app_settings.analysis,
            principal.role,
            replace(params, status=status),
            rings=rings,
            size_by=size_by,
            download_href=None if offline else _offline_href(request),
            lang=lang,
        )
    return _page(settings, page, offline, "safeground-coverage.html", danger_m)


@router.post(
    "/visit",
    response_class=HTMLResponse,
    summary="Printable map of a planned route and the hazards along it",
    description="The body is a GeoJSON LineString (or a Feature holding one). The route check "
    "(`POST /analysis/route-check`, same rules) on a map: the corridor of `buffer_m` each side, "
    "every hazard area in it labelled with its distance from the route and where along it (km), "
    f"the facilities and villages along the way, and the route check's notice. {NOT_SAFE}",
)
def visit_route(
    engine: EngineDep,
    app_settings: SettingsDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    settings: MapSettingsDep,
    body: Annotated[dict[str, Any], Body(description="A GeoJSON LineString, or a Feature")],
    buffer_m: Annotated[float, Query(description="Corridor half-width in metres")] = 500,
    offline: OfflineQuery = False,
    danger_m: DangerQuery = folium_map.DEFAULT_DANGER_M,
    lang: LangQuery = names.DEFAULT_LANG,
) -> HTMLResponse:
    with engine.connect() as conn:
        page = route_page.route_visit(
            conn,
            registry,
            app_settings.analysis,
            principal.role,
            geojson=body,
            buffer_m=buffer_m,
            lang=lang,
        )
    return _page(settings, page, offline, "safeground-route.html", danger_m)


@router.get(
    "/assets/{path:path}", summary="Leaflet and its plugins (npm packages)", include_in_schema=False
)
def asset(
    settings: MapSettingsDep, path: Annotated[str, Path(description="file under node_modules")]
) -> FileResponse:
    target = served_file(settings.node_modules, path)
    return FileResponse(
        target, media_type=media_type(target), headers={"Cache-Control": "public, max-age=86400"}
    )
