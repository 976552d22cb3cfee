"""`safeground map overview|coverage|visit --out FILE.html [--offline]`: the maps the API serves,
as files.

A map file travels (printed, mailed, copied to a phone), so it is drawn for the `partner` role
unless asked otherwise: hazard areas shown, fields reserved to staff left out. It is one
self-contained file (Leaflet and its plugins inlined) unless `--assets-url` names a server to load
them from: a file never points into this machine's node_modules, which would break once moved.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from api.coverage_params import (
    ByOption,
    DistrictOption,
    RiskOption,
    SinceOption,
    TargetOption,
    UntilOption,
    WithinOption,
)
from gis import db
from gis.analysis.answers import CoverageAsk
from gis.errors import SafeGroundError
from gis.maps import builders, choropleth, coverage_page, folium_map, names, nearby, route_page
from gis.maps.assets import MapAssets, MapSettings
from gis.roles import LayerRoles
from gis.settings import Settings
from gis.spec import Role
from layers import REGISTRY

map_app = typer.Typer(
    help="Maps as HTML files (--offline: one self-contained file that opens with no network).",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True)
ROLES = [r.name for r in Role]

Out = Annotated[Path, typer.Option("--out", "-o", help="the HTML file to write", dir_okay=False)]
Offline = Annotated[
    bool,
    typer.Option(
        help="one file that opens with no network (the default unless --assets-url is given)"
    ),
]
DangerOption = Annotated[
    float,
    typer.Option(
        min=folium_map.MIN_DANGER_M,
        max=folium_map.MAX_DANGER_M,
        help="how near a hazard area (metres) the map's locate button warns",
    ),
]
LangOption = Annotated[
    str,
    typer.Option(
        help="the language of place names: az (default), en or ru, falling back to Azerbaijani"
    ),
]
RoleOption = Annotated[
    str, typer.Option(help=f"draw the map as this role sees it: {', '.join(ROLES)}")
]
AssetsUrl = Annotated[
    str | None,
    typer.Option(
        help="load Leaflet from this server instead of inlining it, e.g. "
        "http://127.0.0.1:8000/maps/assets (ignored with --offline)"
    ),
]


def _fail(message: str) -> None:
    err.print(Text.assemble(("error: ", "bold red"), message), highlight=False)
    raise typer.Exit(1)


def _role(name: str) -> Role:
    if name not in ROLES:
        _fail(f"unknown role '{name}': use one of {', '.join(ROLES)}")
    return Role[name]


def _write(
    page: builders.BuiltMap,
    out: Path,
    offline: bool,
    assets_url: str | None,
    started: float,
    danger_m: float = folium_map.DEFAULT_DANGER_M,
) -> None:
    settings = MapSettings()
    inline = offline or not assets_url
    base_url = assets_url or "assets"
    html = folium_map.render(
        page.map,
        MapAssets.from_settings(settings, inline=inline, base_url=base_url),
        danger_m=danger_m,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    counts = ", ".join(f"{n:,} {key}" for key, n in page.counts.items())
    console.print(
        f"{out}: {len(html.encode()) / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s "
        f"({'offline, self-contained' if inline else 'assets from ' + base_url}); {counts}",
        highlight=False,
        markup=False,
    )


@map_app.command("overview")
def overview(
    out: Out,
    offline: Offline = False,
    district: Annotated[
        str | None, typer.Option(help="a district's name or code, e.g. Aghdam")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="only activities since this date (YYYY-MM-DD)")
    ] = None,
    shade: Annotated[
        str | None,
        typer.Option(
            help=f"shade the districts by a figure: {', '.join(choropleth.SHADES)} "
            "(districts without it hatched 'no data — not safe')"
        ),
    ] = None,
    role: RoleOption = "partner",
    assets_url: AssetsUrl = None,
    danger_m: DangerOption = folium_map.DEFAULT_DANGER_M,
    lang: LangOption = names.DEFAULT_LANG,
) -> None:
    """Every layer the role may read, nationally or for one district."""
    started = time.perf_counter()
    try:
        day = dt.date.fromisoformat(since) if since else None
    except ValueError:
        _fail(f"since: '{since}' is not a date (YYYY-MM-DD)")
        return
    settings = Settings()
    engine = db.make_engine(settings.database)
    try:
        with engine.connect() as conn:
            page = builders.overview(
                conn,
                REGISTRY,
                _role(role),
                district=district,
                since=day,
                roles=LayerRoles.from_settings(REGISTRY, settings.analysis),
                shade=shade,
                analysis=settings.analysis,
                lang=lang,
            )
    except SafeGroundError as exc:
        _fail(exc.message)
        return
    _write(page, out, offline, assets_url, started, danger_m)


@map_app.command("visit")
def visit(
    out: Out,
    offline: Offline = False,
    village: Annotated[str | None, typer.Option(help="village id or name")] = None,
    district: Annotated[
        str | None, typer.Option(help="district (name or code) when several villages share a name")
    ] = None,
    lon: Annotated[float | None, typer.Option(help="longitude of the centre (with --lat)")] = None,
    lat: Annotated[float | None, typer.Option(help="latitude of the centre (with --lon)")] = None,
    radius_m: Annotated[float, typer.Option(help="reach, in metres")] = nearby.DEFAULT_RADIUS_M,
    route: Annotated[
        Path | None,
        typer.Option(help="a GeoJSON file holding the planned route (a LineString or a Feature)"),
    ] = None,
    buffer_m: Annotated[
        float, typer.Option(help="with --route: corridor half-width, metres")
    ] = 500,
    role: RoleOption = "partner",
    assets_url: AssetsUrl = None,
    danger_m: DangerOption = folium_map.DEFAULT_DANGER_M,
    lang: LangOption = names.DEFAULT_LANG,
) -> None:
    """A printable map of a village (or a point) and what lies within reach, or of a planned
    route (--route) and the hazard areas along it."""
    started = time.perf_counter()
    geojson = None
    if route is not None:
        if village is not None or lon is not None or lat is not None:
            _fail("give either --route or a village / --lon and --lat, not both")
        try:
            geojson = json.loads(route.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            _fail(f"route: cannot read {route} as GeoJSON ({exc})")
    settings = Settings()
    engine = db.make_engine(settings.database)
    try:
        with engine.connect() as conn:
            if route is not None:
                page = route_page.route_visit(
                    conn,
                    REGISTRY,
                    settings.analysis,
                    _role(role),
                    geojson=geojson,
                    buffer_m=buffer_m,
                    lang=lang,
                )
            else:
                page = builders.visit(
                    conn,
                    REGISTRY,
                    _role(role),
                    village=village,
                    district=district,
                    lon=lon,
                    lat=lat,
                    radius_m=radius_m,
                    roles=LayerRoles.from_settings(REGISTRY, settings.analysis),
                    lang=lang,
                )
    except SafeGroundError as exc:
        _fail(exc.message)
        return
    _write(page, out, offline, assets_url, started, danger_m)


@map_app.command("coverage")
def coverage(
    out: Out,
    offline: Offline = False,
    target: TargetOption = None,
    by: ByOption = None,
    within_m: WithinOption = 2000,
    since: SinceOption = None,
    until: UntilOption = None,
    risk_within_m: RiskOption = "5000",
    district: DistrictOption = None,
    status: Annotated[
        str, typer.Option(help="which at-risk targets to draw: uncovered, covered or all")
    ] = "all",
    rings: Annotated[bool, typer.Option(help="draw the within_m and risk_within_m rings")] = False,
    size_by: Annotated[
        str, typer.Option(help="size uncovered targets by population or priority")
    ] = ("population"),
    role: RoleOption = "partner",
    assets_url: AssetsUrl = None,
    danger_m: DangerOption = folium_map.DEFAULT_DANGER_M,
    lang: LangOption = names.DEFAULT_LANG,
) -> None:
    """The coverage analysis on a map: uncovered targets at risk prominent, covered ones muted."""
    started = time.perf_counter()
    settings = Settings()
    engine = db.make_engine(settings.database)
    try:
        with engine.connect() as conn:
            page = coverage_page.coverage(
                conn,
                REGISTRY,
                settings.analysis,
                _role(role),
                CoverageAsk.from_text(
                    target=target,
                    by=by,
                    within_m=within_m,
                    since=since,
                    until=until,
                    risk_within_m=risk_within_m,
                    district=district,
                    status=status,
                ),
                rings=rings,
                size_by=size_by,
                lang=lang,
            )
    except SafeGroundError as exc:
        _fail(exc.message)
        return
    _write(page, out, offline, assets_url, started, danger_m)
