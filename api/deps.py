"""FastAPI dependencies as typed aliases: each request parameter parsed and checked once."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool

from api import map_session
from api.auth import KeyCache, resolve
from api.responses import Format, negotiate
from gis.access import ANONYMOUS, Principal
from gis.cql import FILTER_LANGS
from gis.crs import URIS, parse_crs
from gis.errors import Forbidden, NotFound, Unauthorized
from gis.params import parse_bbox, parse_datetime, parse_timestamp
from gis.query import ItemsQuery, build_items_query, parse_page
from gis.roles import LayerRoles
from gis.settings import Settings
from gis.spec import LayerSpec, Registry, Role

# Dependencies that do no blocking work are `async def`: FastAPI runs them inline, where a plain
# `def` would cost a hop through the threadpool each (several per request add up to milliseconds).


async def _engine(request: Request) -> sa.Engine:
    return request.app.state.engine


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def _registry(request: Request) -> Registry:
    return request.app.state.registry


async def _roles(request: Request) -> LayerRoles:
    return request.app.state.roles


EngineDep = Annotated[sa.Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]
RegistryDep = Annotated[Registry, Depends(_registry)]
RolesDep = Annotated[LayerRoles, Depends(_roles)]


async def _principal(
    request: Request,
    engine: EngineDep,
    x_api_key: Annotated[
        str | None, Header(description="API key (or use the api_key parameter)")
    ] = None,
    api_key: Annotated[
        str | None, Query(description="API key, for clients that cannot set headers")
    ] = None,
) -> Principal:
    key = x_api_key or api_key
    if not key:
        # A served map's own tile and item reads carry its session cookie instead of the key.
        session = request.cookies.get(map_session.COOKIE)
        if session and map_session.accepts(request):
            return await run_in_threadpool(map_session.principal, request, engine, session)
        return ANONYMOUS
    cache: KeyCache = request.app.state.key_cache
    known, principal = cache.lookup(key)
    if known and principal is not None:
        return principal
    return await run_in_threadpool(resolve, engine, cache, key)


PrincipalDep = Annotated[Principal, Depends(_principal)]


async def principal_of(request: Request) -> Principal:
    """The caller, as PrincipalDep finds it, for a route that parses its own request (tiles)."""
    return await _principal(
        request,
        request.app.state.engine,
        request.headers.get("x-api-key"),
        request.query_params.get("api_key"),
    )


def layer_not_found(name: str) -> NotFound:
    # The same answer for a layer that does not exist and one the caller may not read.
    return NotFound(f"no collection '{name}'")


async def _layer(
    registry: RegistryDep,
    principal: PrincipalDep,
    layer: Annotated[str, Path(description="Layer (collection) name, e.g. hazard_areas")],
) -> LayerSpec:
    spec = registry.get(layer)
    if spec is None or not spec.readable_by(principal.role):
        raise layer_not_found(layer)
    return spec


LayerDep = Annotated[LayerSpec, Depends(_layer)]


# --- writes ------------------------------------------------------------------------------------


async def _editor(principal: PrincipalDep) -> Principal:
    """Writes need the editor role: 401 without a key, 403 with a lower role (checked before the
    layer, so an anonymous write learns nothing about which layers exist)."""
    if principal.name is None:
        raise Unauthorized("writing needs an API key with the editor role (X-API-Key header)")
    if principal.role < Role.editor:
        raise Forbidden(
            f"the key '{principal.name}' has the {principal.role.name} role; writing needs editor"
        )
    return principal


EditorDep = Annotated[Principal, Depends(_editor)]


# --- items parameters ----------------------------------------------------------------------------
# Each parameter is declared once (with its OpenAPI description) and parsed by a gis function.
# The /items dependency takes them all directly: every nested dependency costs FastAPI time on
# every request, and this is the hot path.

BBoxParam = Annotated[
    str | None,
    Query(
        description="min_lon,min_lat,max_lon,max_lat in CRS84 (or in bbox-crs; EPSG:4326 is "
        "min_lat,min_lon,max_lat,max_lon, as that CRS defines its axes)",
        examples=["46.9,39.9,47.2,40.1"],
    ),
]
BBoxCrsParam = Annotated[
    str | None, Query(alias="bbox-crs", description=f"CRS of bbox: one of {', '.join(URIS)}")
]
CrsParam = Annotated[
    str | None, Query(description=f"output CRS (default CRS84): one of {', '.join(URIS)}")
]
DatetimeParam = Annotated[
    str | None,
    Query(
        description="RFC 3339 date/date-time or interval 'start/end' ('..' for an open end), on "
        "the layer's temporal field",
        examples=["2024-01-01/.."],
    ),
]
LimitParam = Annotated[
    str | None,
    Query(
        description="features per page (default 100, at most 10,000), or `all`: every feature "
        "the caller may see, streamed as one download"
    ),
]
OffsetParam = Annotated[
    int | None, Query(description="features to skip (prefer the next links' cursor)")
]
CursorParam = Annotated[str | None, Query(description="opaque keyset cursor from a next/prev link")]
SortbyParam = Annotated[
    str | None,
    Query(description="+field or -field (a queryable, e.g. population), e.g. -recorded_on"),
]
UpdatedSinceParam = Annotated[
    str | None,
    Query(description="incremental sync: only features changed at or after this RFC 3339 instant"),
]
IncludeDeletedParam = Annotated[
    bool,
    Query(description="incremental sync: include deleted features as tombstones (null geometry)"),
]
FilterParam = Annotated[
    str | None,
    Query(
        description="CQL2 filter over the queryables (OGC API - Features Part 3), e.g. "
        "population > 1000 AND S_DWITHIN(geometry, POINT(46.9 39.9), 5000, meters)",
    ),
]
FilterLangParam = Annotated[
    str | None,
    Query(
        alias="filter-lang",
        description="cql2-text (default) or cql2-json; cql-text, the draft's name that GDAL up "
        "to 3.7 sends, is read as cql2-text",
        json_schema_extra={"enum": list(FILTER_LANGS)},
    ),
]
FilterCrsParam = Annotated[
    str | None,
    Query(alias="filter-crs", description="CRS of the filter's geometries (default CRS84)"),
]
PropertiesParam = Annotated[
    str | None, Query(description="comma-separated properties to return (default all visible)")
]
SkipGeometryParam = Annotated[
    bool, Query(alias="skipGeometry", description="true: features without their geometry")
]
DistrictParam = Annotated[
    str | None,
    Query(
        max_length=200,
        description="only features in this district: its name (Azerbaijani, English or "
        "Russian) or code, e.g. Aghdam, Ağdam, AZ.AM",
    ),
]


async def _items_query(
    request: Request,
    spec: LayerDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    roles: RolesDep,
    bbox: BBoxParam = None,
    bbox_crs: BBoxCrsParam = None,
    crs: CrsParam = None,
    datetime: DatetimeParam = None,
    limit: LimitParam = None,
    offset: OffsetParam = None,
    cursor: CursorParam = None,
    sortby: SortbyParam = None,
    updated_since: UpdatedSinceParam = None,
    include_deleted: IncludeDeletedParam = False,
    filter: FilterParam = None,
    filter_lang: FilterLangParam = None,
    filter_crs: FilterCrsParam = None,
    properties: PropertiesParam = None,
    skip_geometry: SkipGeometryParam = False,
    district: DistrictParam = None,
) -> ItemsQuery:
    """Every /items parameter checked; any other parameter must be a queryable the caller may see."""
    api = settings.api
    box_crs = parse_crs("bbox-crs", bbox_crs)
    return build_items_query(
        spec, principal.role, request.query_params.multi_items(),
        parse_page(limit, offset, cursor, api.default_limit, api.max_limit),
        bbox=parse_bbox(bbox, box_crs) if bbox is not None else None,
        interval=parse_datetime(datetime) if datetime is not None else None,
        sortby=sortby,
        updated_since=(
            parse_timestamp("updated_since", updated_since) if updated_since is not None else None
        ),
        include_deleted=include_deleted,
        filter_text=filter, filter_lang=filter_lang, filter_crs=filter_crs,
        properties=properties, skip_geometry=skip_geometry, crs=parse_crs("crs", crs),
        district=district, districts=roles.areas,
    )  # fmt: skip


ItemsQueryDep = Annotated[ItemsQuery, Depends(_items_query)]


def format_dep(*allowed: Format) -> Any:
    """A dependency choosing the output format from `f` or the Accept header, among `allowed`."""

    async def _format(request: Request, f: str | None = None) -> Format:
        return negotiate(f, request.headers.get("accept"), allowed)

    # Real objects, not the strings `from __future__ import annotations` leaves: the description
    # depends on `allowed`, which FastAPI could not resolve from a string.
    description = f"output format: {', '.join(a.value for a in allowed)} (or use the Accept header)"
    _format.__annotations__ = {
        "request": Request,
        "f": Annotated[str | None, Query(description=description)],
        "return": Format,
    }
    return Depends(_format)
