"""`/collections/{layer}/items` and `/items/{id}`: the features, as GeoJSON, HTML, CSV,
GeoPackage or FlatGeobuf.

The GeoJSON path is the hot one: one statement, whose JSON bytes are spliced into the envelope.
Exports go through the one export engine (gis.export): a page of CSV or GeoPackage is audited in
the same transaction that reads it; a whole layer (`limit=all`, or any export without a page) is
streamed and audited when the stream ends, with the rows it carried, or (files) served from the
download cache (gis.download_cache), audited once per read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from api.deps import CrsParam, EngineDep, ItemsQueryDep, LayerDep, PrincipalDep, format_dep
from api.responses import (
    GEOJSON,
    HTML,
    MEDIA,
    Format,
    Links,
    cache_headers,
    feature_collection,
    feature_with_links,
    respond,
    timestamp,
)
from api.routes.ogc.collections import notices
from gis.access import Principal, audit
from gis.catalog import holds_synthetic
from gis.crs import content_crs_header, parse_crs
from gis.download_cache import (
    READ_WINDOW_S,
    DownloadCache,
    audited_since,
    cache_key,
    data_versions,
)
from gis.errors import NotFound
from gis.export import MEDIA as FILE_MEDIA
from gis.export import SUFFIX, ExportFormat, export
from gis.items import count_matched, read_connection, read_item, read_page
from gis.outputs.html_pages import document_page, features_page, read_feature_rows
from gis.query import ItemsQuery, encode_cursor
from gis.spec import LayerSpec

router = APIRouter(tags=["OGC API - Features"])
ITEM_FORMATS = (Format.json, Format.html, Format.csv, Format.gpkg, Format.fgb)
EXPORTS: dict[Format, ExportFormat] = {
    Format.json: "geojson",
    Format.csv: "csv",
    Format.gpkg: "gpkg",
    Format.fgb: "fgb",
}
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
    if q.page.whole and fmt != Format.html:
        return _download(request, q, principal, engine, fmt, hxl, raw)
    if fmt in (Format.csv, Format.gpkg, Format.fgb):
        return _export(request, q, principal, engine, fmt, hxl, raw)
    if fmt == Format.html:
        return _html(request, q, principal, engine)
    with read_connection(engine) as conn:
        page = read_page(conn, q)
        # Exact, and free when this page holds every match; else counted only when asked.
        first_page = q.page.offset == 0 and q.cursor is None
        free = page.returned if first_page and not page.has_more else None
        matched = free if free is not None or not count else count_matched(conn, q)
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
    return respond(
        request,
        body,
        GEOJSON,
        principal,
        headers=content_crs_header(q.crs),
        tagged=(page.features_json, links_json),
    )


# GDAL's /vsicurl/ (geopandas, QGIS) asks HEAD for a file's size before its byte ranges; a 405
# would cost it a whole GET. HEAD answers as GET does, without the body (and without an audit row).
router.add_api_route("/collections/{layer}/items", items, methods=["HEAD"], include_in_schema=False)


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
    """A page of CSV, GeoPackage or FlatGeobuf (a whole layer streams instead), audited."""
    if not q.page.explicit:
        return _download(request, q, principal, engine, fmt, hxl, raw)
    with engine.begin() as conn:
        result = export(conn, q, EXPORTS[fmt], hxl=hxl, raw=raw)
        body = b"".join(result)
        page = {"limit": q.page.limit, "offset": q.page.offset}
        audit(
            conn,
            principal,
            f"export_{fmt.value}",
            q.spec.name,
            {**q.describe(), **page},
            result.rows,
        )
    headers = {"Content-Disposition": f'attachment; filename="{result.filename}"'}
    return respond(request, body, result.media, principal, headers=headers | _crs_header(q, fmt))


def _crs_header(q: ItemsQuery, fmt: Format) -> dict[str, str]:
    return content_crs_header(q.crs) if fmt in (Format.json, Format.csv) else {}


def _download(
    request: Request,
    q: ItemsQuery,
    principal: Principal,
    engine: sa.Engine,
    fmt: Format,
    hxl: bool,
    raw: bool,
) -> Response:
    """Every feature the caller may see (after the filters), in the format asked.

    GeoJSON streams as PostgreSQL builds it: the first chunk is read before the answer starts, so
    a bad district is still a 4xx, and the audit row is written when the stream ends (completed
    or cut off) with the rows sent. Files (CSV, GeoPackage, FlatGeobuf) come from the download
    cache with a length, a strong ETag and byte ranges, which GDAL's /vsicurl/ needs.
    """
    kind = EXPORTS[fmt]
    headers = {
        "Content-Disposition": f'attachment; filename="{q.spec.name}{SUFFIX[kind]}"',
        **_crs_header(q, fmt),
        **cache_headers(principal),
    }
    if fmt != Format.json:
        return _cached_file(request, q, principal, engine, fmt, hxl, raw, headers)
    if request.method == "HEAD":  # a stream has no length to announce: read nothing, log nothing
        return Response(media_type=GEOJSON, headers=headers)
    conn = engine.connect()
    transaction = conn.begin()
    try:
        result = export(conn, q, kind, hxl=hxl, raw=raw)
        chunks = iter(result)
        first = next(chunks, b"")
    except BaseException:
        transaction.rollback()
        conn.close()
        raise

    def body() -> Iterator[bytes]:
        completed = False
        try:
            yield first
            yield from chunks
            completed = True
        finally:
            transaction.rollback()  # a read: nothing to keep
            conn.close()
            detail = {**q.describe(), "whole": True, "completed": completed}
            with engine.begin() as log:
                audit(log, principal, f"export_{fmt.value}", q.spec.name, detail, result.rows)

    return StreamingResponse(body(), media_type=result.media, headers=headers)


def _cached_file(
    request: Request,
    q: ItemsQuery,
    principal: Principal,
    engine: sa.Engine,
    fmt: Format,
    hxl: bool,
    raw: bool,
    headers: dict[str, str],
) -> Response:
    """A whole-layer file from the download cache (built if need be), with byte ranges.

    Audit: one row per read, not per range. A whole answer (200) is always audited. A byte range
    is audited unless the same caller's request for this very file (its ETag) was logged within
    the last READ_WINDOW_S seconds: one geopandas.read_file is a probe of bytes 0-1 and then
    GDAL's many ranges, and logs one row; and no choice of ranges dodges the log.
    """
    kind = EXPORTS[fmt]
    action = f"export_{fmt.value}"
    with read_connection(engine) as conn:
        versions = data_versions(conn, q)  # before the build: the file is at least this new
    key = cache_key(q, kind, principal.role.name, versions, hxl=hxl, raw=raw)

    def build(path: Path) -> int:
        with path.open("wb") as file, engine.begin() as conn:
            result = export(conn, q, kind, hxl=hxl, raw=raw)
            for chunk in result:
                file.write(chunk)
        return result.rows or 0

    cache: DownloadCache = request.app.state.downloads
    found = cache.fetch(key, build)
    try:
        ranged = _ranged(request, found.etag)
        if request.method != "HEAD":  # a HEAD sends no byte of the file
            with engine.begin() as conn:
                if not ranged or not audited_since(
                    conn, principal.actor, action, found.etag, READ_WINDOW_S
                ):
                    detail = {**q.describe(), "etag": found.etag, "cached": not found.built}
                    if ranged:
                        detail["range"] = request.headers["range"][:200]
                    audit(conn, principal, action, q.spec.name, detail, found.rows)
    except BaseException:
        found.release()
        raise
    return FileResponse(
        found.path,
        media_type=FILE_MEDIA[kind],
        headers={**headers, "ETag": found.etag},
        background=BackgroundTask(found.release),
    )


def _ranged(request: Request, etag: str) -> bool:
    """Whether the answer is part of the file: a Range, and no If-Range naming another file."""
    if_range = request.headers.get("if-range")
    return "range" in request.headers and (if_range is None or if_range == etag)


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
    crs: CrsParam = None,
) -> Response:
    row_id = parse_feature_id(feature_id, spec)
    fields = spec.visible_fields(principal.role)
    out_crs = parse_crs("crs", crs)
    with read_connection(engine) as conn:
        body = read_item(conn, spec, fields, row_id, out_crs)
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
    return respond(
        request,
        feature_with_links(body, link_list),
        GEOJSON,
        principal,
        headers=content_crs_header(out_crs),
    )
