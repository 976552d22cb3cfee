"""`/` and `/conformance`: where a client (GDAL, QGIS, OWSLib) starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Request, Response

from api.deps import PrincipalDep, SettingsDep, format_dep
from api.responses import HTML, JSON, OPENAPI, Format, Links, json_response, respond
from api.routes.ogc.tiles import CONFORMANCE as TILES_CONFORMANCE
from gis.notices import NOT_SAFE
from gis.outputs.html_pages import document_page

router = APIRouter(tags=["OGC API - Features"])
DOC_FORMATS = (Format.json, Format.html)
DocFormat = Annotated[Format, format_dep(*DOC_FORMATS)]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    *TILES_CONFORMANCE,
]


def document(
    request: Request,
    doc: Mapping[str, object],
    fmt: Format,
    principal: PrincipalDep,
    title: str,
    notices: tuple[str, ...] = (),
) -> Response:
    """A JSON document, or the same as an HTML page."""
    if fmt == Format.html:
        return respond(request, document_page(title, doc, notices).encode(), HTML, principal)
    return json_response(request, dict(doc), principal)


@router.get("/", summary="Landing page")
def landing(
    request: Request, settings: SettingsDep, principal: PrincipalDep, fmt: DocFormat
) -> Response:
    links = Links(request)
    doc = {
        "title": settings.api.title,
        "description": request.app.description,
        "links": [
            *links.alternates("/", DOC_FORMATS, fmt, "this document"),
            links.link("/api", "service-desc", OPENAPI, "the API definition (OpenAPI 3.0)"),
            links.link("/api.html", "service-doc", HTML, "the API documentation"),
            links.link("/conformance", "conformance", JSON, "conformance classes"),
            links.link("/collections", "data", JSON, "the layers (collections)"),
            links.link(
                "/tileMatrixSets",
                "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
                JSON,
                "the tile matrix sets (vector tiles of every layer)",
            ),
            links.link("/maps", "related", HTML, "the maps (overview, visit, coverage)"),
            links.link("/maps/overview", "related", HTML, "the overview map"),
        ],
    }
    return document(request, doc, fmt, principal, settings.api.title, (NOT_SAFE,))


@router.get("/conformance", summary="Conformance classes implemented")
def conformance(request: Request, principal: PrincipalDep, fmt: DocFormat) -> Response:
    links = Links(request)
    doc = {
        "conformsTo": CONFORMANCE,
        "links": links.alternates("/conformance", DOC_FORMATS, fmt, "this document"),
    }
    return document(request, doc, fmt, principal, "Conformance")
