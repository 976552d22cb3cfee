"""OGC API – Tiles over every layer: the tileset lists and metadata QGIS and GDAL read, the
WebMercatorQuad tile matrix set, and the vector tiles themselves (gis/tiles.py), under the same
access rules as the items (a layer one may not read is not found; hidden fields are not in a
tile) and with ETags."""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from api.deps import EngineDep, LayerDep, PrincipalDep
from api.responses import JSON, Links, cache_headers, json_response, respond
from gis.errors import InvalidParameter, NotFound
from gis.items import read_connection
from gis.tiles import (
    MAX_ZOOM,
    MVT,
    TILE_MATRIX_SET,
    TILE_MATRIX_SET_URI,
    TileId,
    build_tile,
    chosen_fields,
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


@router.get(
    "/collections/{layer}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    summary="One vector tile (MVT) of the layer",
    description="The live features intersecting the tile, with the feature id and the fields "
    "your role may read: below tileMatrix 11 only the fields the map's style reads (the tileset's "
    "lightProperties), unless `properties` names others. Polygons too small for the tile's grid "
    "are kept as a point. Empty tiles are empty bodies. ETag / If-None-Match as for the items "
    "(each field list its own tag).",
    response_class=Response,
    responses={200: {"content": {MVT: {}}}},
)
def tile(
    request: Request,
    spec: LayerDep,
    engine: EngineDep,
    principal: PrincipalDep,
    tile_matrix_set_id: Annotated[str, Path(alias="tileMatrixSetId")],
    tile_matrix: Annotated[int, Path(alias="tileMatrix", description="zoom, 0…22")],
    tile_row: Annotated[int, Path(alias="tileRow", description="y, from the north")],
    tile_col: Annotated[int, Path(alias="tileCol", description="x, from the west")],
    properties: Annotated[
        str | None,
        Query(
            description="comma-separated fields the tile's features carry besides the id "
            "(default: by zoom, see the tileset's description)",
            max_length=2000,
        ),
    ] = None,
    f: Annotated[
        str | None,
        Query(
            description="output format: only `mvt` (the default). GDAL's MVT driver needs a URL "
            "that does not end in a number (it reads one as a tileset directory), so "
            "`MVT:/vsicurl/…/{tileCol}?f=mvt` opens one tile",
            max_length=20,
        ),
    ] = None,
) -> Response:
    if tile_matrix_set_id != TILE_MATRIX_SET:
        raise NotFound(f"no tileset '{tile_matrix_set_id}': only {TILE_MATRIX_SET}")
    if f is not None and f.strip().lower() != "mvt":
        raise InvalidParameter(f"f: '{f[:20]}' is not an output format of tiles; use mvt")
    tile_id = TileId(tile_matrix, tile_row, tile_col)
    tile_id.check()
    role = principal.role
    fields = (
        default_fields(spec, role, tile_matrix)
        if properties is None
        else chosen_fields(spec, role, properties)
    )
    with read_connection(engine) as conn:
        body = build_tile(conn, spec, role, tile_id, fields)
    # The field list is part of the tag: a light and a full tile never share one, even empty.
    shape = (",".join(fields) + "\n").encode()
    if len(body) < GZIP_ABOVE or not _takes_gzip(request.headers.get("accept-encoding", "")):
        return respond(request, body, MVT, principal, tagged=(shape, body))
    # Compressed here, in the threadpool at a fast level, not by the app's GZip middleware on the
    # event loop at level 5: a tile of hundreds of kilobytes shrinks about as much, in half the
    # time, and the loop stays free. The ETag is the content's, whatever its encoding.
    headers = {
        "Content-Encoding": "gzip",
        "Vary": cache_headers(principal)["Vary"] + ", Accept-Encoding",
    }
    return respond(
        request,
        gzip.compress(body, GZIP_LEVEL),
        MVT,
        principal,
        headers=headers,
        tagged=(shape, body),
    )


def _takes_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


# GDAL's /vsicurl/ (its MVT driver reading a tile straight from the URL) asks HEAD for the size
# first; a 405 makes it give up. HEAD answers as GET does, without the body.
router.add_api_route(
    "/collections/{layer}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    tile,
    methods=["HEAD"],
    include_in_schema=False,
)
