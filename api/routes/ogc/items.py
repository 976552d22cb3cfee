"""`/collections/{layer}/items` and `/items/{id}`: the features, as GeoJSON, HTML, CSV or GeoPackage.

The GeoJSON path is the hot one: one statement, whose JSON bytes are spliced into the envelope.
Exports (CSV, GeoPackage) are audited in the same transaction that reads them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response

from api.deps import EngineDep, ItemsQueryDep, LayerDep, PrincipalDep, format_dep
from api.responses import (
    CSV,
    GEOJSON,
    GPKG,
    HTML,
    MEDIA,
    Format,
    Links,
    feature_collection,
    feature_with_links,
    respond,
    timestamp,
)
from api.routes.ogc.collections import notices
from gis.access import Principal, audit
from gis.catalog import holds_synthetic
from gis.errors import NotFound
from gis.items import count_matched, read_connection, read_item, read_page
from gis.outputs.html_pages import document_page, features_page, read_feature_rows
from gis.outputs.tables import write_csv, write_geopackage
from gis.query import ItemsQuery, encode_cursor
from gis.spec import LayerSpec

router = APIRouter(tags=["OGC API - Features"])
ITEM_FORMATS = (Format.json, Format.html, Format.csv, Format.gpkg)
FEATURE_FORMATS = (Format.json, Format.html)
PAGING = ("cursor", "offset")


def page_links(
    request: Request,
    q: ItemsQuery,
    fmt: Format,
    *,
    fetched: int,
    first_key: str | None,
    last_key: str | None,
) -> list[dict[str, str]]:
    """self, alternates, next and prev: keyset cursors unless the caller pages by offset."""
    links = Links(request)
    path = request.url.path
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "api_key"]
    out = links.alternates(path, ITEM_FORMATS, fmt, "this page", params, json_media=GEOJSON)
    base = [(k, v) for k, v in params if k not in PAGING]
    media = MEDIA[fmt]
    limit, has_more = q.page.limit, fetched > q.page.limit

    def go(rel: str, extra: list[tuple[str, str]], title: str) -> None:
        out.append(links.link(path, rel, media, title, [*base, *extra]))

    if q.page.offset or "offset" in request.query_params:
        if has_more:
            go("next", [("offset", str(q.page.offset + limit))], "next page")
        if q.page.offset > 0:
            go("prev", [("offset", str(max(0, q.page.offset - limit)))], "previous page")
    elif q.cursor is not None and q.cursor.backward:
        # Travelling back: the first row read is the last one shown, and more means more before.
        if first_key is not None:
            go("next", [("cursor", encode_cursor(q.sort, False, first_key))], "next page")
        if has_more and last_key is not None:
            go("prev", [("cursor", encode_cursor(q.sort, True, last_key))], "previous page")
    else:
        if has_more and last_key is not None:
            go("next", [("cursor", encode_cursor(q.sort, False, last_key))], "next page")
        if q.cursor is not None and first_key is not None:
            go("prev", [("cursor", encode_cursor(q.sort, True, first_key))], "previous page")
    out.append(
        links.link(f"/collections/{q.spec.name}", "collection", "application/json", q.spec.title)
    )
    return out


@router.get("/collections/{layer}/items", summary="The features of a layer, filtered and paged")
def items(
    request: Request,
    spec: LayerDep,
    principal: PrincipalDep,
    q: ItemsQueryDep,
    engine: EngineDep,
    fmt: Annotated[Format, format_dep(*ITEM_FORMATS)],
    count: Annotated[
        bool, Query(description="also return numberMatched (counts every match: slower)")
    ] = False,
    hxl: Annotated[
        bool, Query(description="CSV: add the layer's HXL hashtag row under the header")
    ] = False,
    raw: Annotated[
        bool,
        Query(description="CSV for machines: no ' guard before cells a spreadsheet would run"),
    ] = False,
) -> Response:
    if fmt == Format.csv or fmt == Format.gpkg:
        return _export(request, q, principal, engine, fmt, hxl, raw)
    if fmt == Format.html:
        return _html(request, q, principal, engine)
    with read_connection(engine) as conn:
        page = read_page(conn, q)
        matched = count_matched(conn, q) if count else None
    head: dict[str, object] = {
        "type": "FeatureCollection",
        "timeStamp": timestamp(page.timestamp),
        "numberReturned": page.returned,
    }
    if matched is not None:
        head["numberMatched"] = matched
    head["links"] = page_links(
        request, q, fmt, fetched=page.fetched, first_key=page.first_key, last_key=page.last_key
    )
    body = feature_collection(page.features_json, head)
    links_json = orjson.dumps(head["links"])
    return respond(request, body, GEOJSON, principal, tagged=(page.features_json, links_json))


def _html(request: Request, q: ItemsQuery, principal: Principal, engine: sa.Engine) -> Response:
    with read_connection(engine) as conn:
        data = read_feature_rows(conn, q)
        synthetic = holds_synthetic(conn, q.spec)
    links = page_links(
        request,
        q,
        Format.html,
        fetched=data.fetched,
        first_key=data.first_key,
        last_key=data.last_key,
    )
    body = features_page(q.spec, data, links, notices(q.spec, synthetic))
    return respond(request, body.encode(), HTML, principal)


def _export(
    request: Request,
    q: ItemsQuery,
    principal: Principal,
    engine: sa.Engine,
    fmt: Format,
    hxl: bool,
    raw: bool = False,
) -> Response:
    """CSV or GeoPackage of every filtered feature (or the page asked for), audited."""
    name = f"{q.spec.name}.{fmt.value}"
    with engine.begin() as conn:
        if fmt == Format.csv:
            body, rows = write_csv(conn, q, hxl=hxl, raw=raw)
        else:
            with tempfile.TemporaryDirectory(prefix="safeground-gpkg-") as tmp:
                path = Path(tmp) / name
                rows = write_geopackage(conn, q, path)
                body = path.read_bytes()
        page = {"limit": q.page.limit, "offset": q.page.offset} if q.page.explicit else {}
        audit(conn, principal, f"export_{fmt.value}", q.spec.name, {**q.describe(), **page}, rows)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return respond(request, body, CSV if fmt == Format.csv else GPKG, principal, headers=headers)


def parse_feature_id(text: str, spec: LayerSpec) -> int:
    """Feature ids are integers; anything else names no feature (404, as OGC ids are opaque)."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound(f"no feature '{text[:40]}' in collection '{spec.name}'")
    return int(text)


@router.get("/collections/{layer}/items/{feature_id}", summary="One feature")
def item(
    request: Request,
    spec: LayerDep,
    principal: PrincipalDep,
    feature_id: str,
    engine: EngineDep,
    fmt: Annotated[Format, format_dep(*FEATURE_FORMATS)],
) -> Response:
    row_id = parse_feature_id(feature_id, spec)
    fields = spec.visible_fields(principal.role)
    with read_connection(engine) as conn:
        body = read_item(conn, spec, fields, row_id)
        synthetic = (
            holds_synthetic(conn, spec) if fmt == Format.html and body is not None else False
        )
    if body is None:
        raise NotFound(f"no feature '{feature_id}' in collection '{spec.name}'")
    links = Links(request)
    path = f"/collections/{spec.name}/items/{row_id}"
    link_list = [
        *links.alternates(path, FEATURE_FORMATS, fmt, "this feature", json_media=GEOJSON),
        links.link(f"/collections/{spec.name}", "collection", "application/json", spec.title),
    ]
    if fmt == Format.html:
        doc = orjson.loads(body)  # one feature, for a page: not a hot path
        doc["links"] = link_list
        page = document_page(f"{spec.title}: feature {row_id}", doc, notices(spec, synthetic))
        return respond(request, page.encode(), HTML, principal)
    return respond(request, feature_with_links(body, link_list), GEOJSON, principal)
