"""The tile route's parameters, parsed once by hand (the route is the maps' hot path, and FastAPI's
parameter machinery cost as much as a small tile), with the same refusals the declared parameters
gave: a 400 naming the parameter and what it got, a 404 for an unknown tile matrix set. The
OpenAPI description of the same parameters sits beside the parser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from gis.errors import InvalidParameter, NotFound
from gis.tiles import MAX_ZOOM, TILE_MATRIX_SET, TileId

PROPERTIES_MAX = 2000  # characters of a `properties` list
F_MAX = 20


@dataclass(frozen=True)
class TileRequest:
    layer: str
    tile: TileId  # checked: inside the matrix
    properties: str | None
    f: str | None


def _integer(request: Request, name: str) -> int:
    raw = str(request.path_params[name])
    try:
        return int(raw, 10)
    except ValueError:
        shown = raw[:40]
        raise InvalidParameter(f"{name}: an integer is wanted; got '{shown}'") from None


def _text(request: Request, name: str, longest: int) -> str | None:
    value = request.query_params.get(name)
    if value is not None and len(value) > longest:
        raise InvalidParameter(f"{name}: at most {longest} characters; got {len(value)}")
    return value


def parse_tile_request(request: Request) -> TileRequest:
    matrix_set = str(request.path_params["tileMatrixSetId"])
    if matrix_set != TILE_MATRIX_SET:
        raise NotFound(f"no tileset '{matrix_set[:40]}': only {TILE_MATRIX_SET}")
    tile = TileId(
        _integer(request, "tileMatrix"), _integer(request, "tileRow"), _integer(request, "tileCol")
    )
    tile.check()
    f = _text(request, "f", F_MAX)
    if f is not None and f.strip().lower() != "mvt":
        raise InvalidParameter(f"f: '{f}' is not an output format of tiles; use mvt")
    return TileRequest(
        layer=str(request.path_params["layer"]),
        tile=tile,
        properties=_text(request, "properties", PROPERTIES_MAX),
        f=f,
    )


def _path(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description} | {
        "schema": schema
    }


def _query(name: str, description: str, longest: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if longest is not None:
        schema["maxLength"] = longest
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


TILE_PARAMETERS: list[dict[str, Any]] = [
    _path("layer", "Layer (collection) name, e.g. hazard_areas", {"type": "string"}),
    _path("tileMatrixSetId", "the tile matrix set: only WebMercatorQuad", {"type": "string"}),
    _path(
        "tileMatrix",
        f"zoom, 0…{MAX_ZOOM}",
        {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM},
    ),
    _path("tileRow", "y, from the north", {"type": "integer", "minimum": 0}),
    _path("tileCol", "x, from the west", {"type": "integer", "minimum": 0}),
    _query(
        "properties",
        "comma-separated fields the tile's features carry besides the id "
        "(default: by zoom, see the tileset's description)",
        PROPERTIES_MAX,
    ),
    _query(
        "f",
        "output format: only `mvt` (the default). GDAL's MVT driver needs a URL that does not "
        "end in a number (it reads one as a tileset directory), so "
        "`MVT:/vsicurl/…/{tileCol}?f=mvt` opens one tile",
        F_MAX,
    ),
    {
        "name": "X-API-Key",
        "in": "header",
        "required": False,
        "description": "API key (or use the api_key parameter)",
        "schema": {"type": "string"},
    },
    _query("api_key", "API key, for clients that cannot set headers"),
]
