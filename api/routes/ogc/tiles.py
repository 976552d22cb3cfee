"""OGC API – Tiles over every layer: the tileset lists and metadata QGIS and GDAL read, the
WebMercatorQuad tile matrix set, and the vector tiles themselves (gis/tiles.py), under the same
access rules as the items (a layer one may not read is not found; hidden fields are not in a
tile) and with ETags."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import LayerDep, PrincipalDep, layer_not_found, principal_of
from api.responses import JSON, Links, cache_headers, json_response, respond
from api.routes.ogc.tile_params import TILE_PARAMETERS, TileRequest, parse_tile_request
from gis.access import Principal
from gis.errors import NotFound
from gis.items import read_connection
from gis.spec import LayerSpec
from gis.tile_cache import TileCache
from gis.tiles import (
    MAX_ZOOM,
    MVT,
    TILE_MATRIX_SET,
    TILE_MATRIX_SET_URI,
    chosen_fields,
    counted_tile,
    default_fields,
    tileset,
)

router = APIRouter(tags=["OGC API - Tiles"])
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
GZIP_ABOVE = 1000  # bytes: as the app's GZip middleware
GZIP_LEVEL = 1
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]
# Web Mercator: the world's width in metres, and the scale denominator of zoom 0 at 0.28 mm pixels.
WORLD_M = 2 * 20037508.342789244
Z0_SCALE = WORLD_M / 256 / 0.00028


def _matrix_set_doc(links: Links) -> dict[str, Any]:
    """OGC 2D TMS 2.0, with the 1.0 keys beside (GDAL 3.6 and older QGIS read those)."""
    crs = "http://www.opengis.net/def/crs/EPSG/0/3857"
    legacy = {
        "type": "TileMatrixSetType",
        "identifier": TILE_MATRIX_SET,
        "supportedCRS": crs,
        "tileMatrix": [
            {
                "type": "TileMatrixType",
                "identifier": str(z),
                "scaleDenominator": Z0_SCALE / 2**z,
                "topLeftCorner": [-WORLD_M / 2, WORLD_M / 2],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
    }
    return legacy | {
        "id": TILE_MATRIX_SET,
        "title": "Google Maps Compatible for the World",
        "uri": TILE_MATRIX_SET_URI,
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": [
            {
                "id": str(z),
                "scaleDenominator": Z0_SCALE / 2**z,
                "cellSize": WORLD_M / 256 / 2**z,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-WORLD_M / 2, WORLD_M / 2],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
            for z in range(MAX_ZOOM + 1)
        ],
        "links": [links.link(f"/tileMatrixSets/{TILE_MATRIX_SET}", "self", JSON, "this document")],
    }


def _tileset_links(links: Links, layer: str) -> list[dict[str, Any]]:
    base = f"/collections/{layer}/tiles/{TILE_MATRIX_SET}"
    item = links.link(base, "item", MVT, "the vector tiles")
    item["href"] += "/{tileMatrix}/{tileRow}/{tileCol}"
    item["templated"] = True  # type: ignore[assignment]
    return [
        links.link(base, "self", JSON, "this tileset"),
        links.link(f"/tileMatrixSets/{TILE_MATRIX_SET}", TILING_SCHEME, JSON, "the tiling scheme"),
        links.link(f"/collections/{layer}", "collection", JSON, "the collection"),
        item,
    ]


@router.get("/tileMatrixSets", summary="The tile matrix sets tiles are served in")
def tile_matrix_sets(request: Request, principal: PrincipalDep) -> Response:
    links = Links(request)
    doc = {
        "tileMatrixSets": [
            {
                "id": TILE_MATRIX_SET,
                "title": "Google Maps Compatible for the World",
                "uri": TILE_MATRIX_SET_URI,
                "links": [
                    links.link(f"/tileMatrixSets/{TILE_MATRIX_SET}", "self", JSON, TILE_MATRIX_SET)
                ],
            }
        ]
    }
    return json_response(request, doc, principal)


@router.get("/tileMatrixSets/{tileMatrixSetId}", summary="One tile matrix set's definition")
def tile_matrix_set(
    request: Request,
    principal: PrincipalDep,
    tile_matrix_set_id: Annotated[str, Path(alias="tileMatrixSetId")],
) -> Response:
    if tile_matrix_set_id != TILE_MATRIX_SET:
        raise NotFound(f"no tile matrix set '{tile_matrix_set_id}': only {TILE_MATRIX_SET}")
    return json_response(request, _matrix_set_doc(Links(request)), principal)


@router.get("/collections/{layer}/tiles", summary="The layer's vector tilesets")
def tilesets(request: Request, spec: LayerDep, principal: PrincipalDep) -> Response:
    links = Links(request)
    meta = tileset(spec, principal.role)
    entry = {key: meta[key] for key in ("title", "dataType", "crs", "tileMatrixSetURI")} | {
        "links": _tileset_links(links, spec.name)
    }
    doc = {
        "tilesets": [entry],
        "links": [links.link(f"/collections/{spec.name}/tiles", "self", JSON, "this list")],
    }
    return json_response(request, doc, principal)


@router.get("/collections/{layer}/tiles/{tileMatrixSetId}", summary="The layer's tileset metadata")
def tileset_metadata(
    request: Request,
    spec: LayerDep,
    principal: PrincipalDep,
    tile_matrix_set_id: Annotated[str, Path(alias="tileMatrixSetId")],
) -> Response:
    if tile_matrix_set_id != TILE_MATRIX_SET:
        raise NotFound(f"no tileset '{tile_matrix_set_id}': only {TILE_MATRIX_SET}")
    doc = tileset(spec, principal.role) | {"links": _tileset_links(Links(request), spec.name)}
    return json_response(request, doc, principal)


TILE_PATH = "/collections/{layer}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"


# The hot path of the maps: a lean route that parses its own few parameters (tile_params.py) and
# makes one hop to the threadpool for the statement, the ETag and the gzip. FastAPI's dependency
# and parameter machinery cost about as much as PostgreSQL building a small tile. The same checks
# and access rules as every other route: the caller from `principal_of`, the layer refused as not
# found when the role may not read it, the fields from the role's visible ones.
@router.get(
    TILE_PATH,
    summary="One vector tile (MVT) of the layer",
    description="The live features intersecting the tile, with the feature id and the fields "
    "your role may read: below tileMatrix 11 only the fields the map's style reads (the tileset's "
    "lightProperties), unless `properties` names others. Polygons too small for the tile's grid "
    "are kept as a point. Empty tiles are empty bodies. ETag / If-None-Match as for the items "
    "(each field list its own tag).",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}},
    openapi_extra={"parameters": TILE_PARAMETERS},
)
async def tile(request: Request) -> Response:
    principal = await principal_of(request)
    asked = parse_tile_request(request)
    spec = request.app.state.registry.get(asked.layer)
    if spec is None or not spec.readable_by(principal.role):
        raise layer_not_found(asked.layer)
    role = principal.role
    fields = (
        default_fields(spec, role, asked.tile.z)
        if asked.properties is None
        else chosen_fields(spec, role, asked.properties)
    )
    engine: sa.Engine = request.app.state.engine
    return await run_in_threadpool(_tile_response, request, engine, spec, principal, asked, fields)


def _tile_response(
    request: Request,
    engine: sa.Engine,
    spec: LayerSpec,
    principal: Principal,
    asked: TileRequest,
    fields: tuple[str, ...],
) -> Response:
    role, tile = principal.role, asked.tile
    with read_connection(engine) as conn:
        kept: TileCache = request.app.state.tiles
        found = kept.tile(
            spec,
            (role, fields, tile),
            lambda held: counted_tile(conn, spec, role, tile, fields, held),
        )
    body = found.body
    # The field list is part of the tag: a light and a full tile never share one, even empty.
    shape = (",".join(fields) + "\n").encode()
    if len(body) < GZIP_ABOVE or not _takes_gzip(request.headers.get("accept-encoding", "")):
        return respond(request, body, MVT, principal, tagged=(shape, found.digest))
    # Compressed here, in the threadpool at a fast level, not by the app's GZip middleware on the
    # event loop at level 5: a tile of hundreds of kilobytes shrinks about as much, in half the
    # time, and the loop stays free. The ETag is the content's, whatever its encoding.
    headers = {
        "Content-Encoding": "gzip",
        "Vary": cache_headers(principal)["Vary"] + ", Accept-Encoding",
    }
    return respond(
        request,
        found.gzipped(GZIP_LEVEL),
        MVT,
        principal,
        headers=headers,
        tagged=(shape, found.digest),
    )


def _takes_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


# GDAL's /vsicurl/ (its MVT driver reading a tile straight from the URL) asks HEAD for the size
# first; a 405 makes it give up. HEAD answers as GET does, without the body.
router.add_api_route(TILE_PATH, tile, methods=["HEAD"], include_in_schema=False)
