"""Building OGC API answers as bytes: links, the items envelope, output formats, ETag and caching.

The features come from PostgreSQL as JSON bytes; the envelope around them is serialised alone and
the two are concatenated, so no feature is ever parsed or re-serialised in Python.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request, Response

from gis.access import Principal
from gis.errors import InvalidParameter


class Format(enum.StrEnum):
    json = "json"
    html = "html"
    csv = "csv"
    gpkg = "gpkg"
    fgb = "fgb"


GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
CSV = "text/csv; charset=utf-8"
GPKG = "application/geopackage+sqlite3"
FGB = "application/flatgeobuf"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"
MEDIA = {
    Format.json: GEOJSON,
    Format.html: HTML,
    Format.csv: CSV,
    Format.gpkg: GPKG,
    Format.fgb: FGB,
}
# What an Accept header may name, best first, for each format.
ACCEPT = {
    Format.json: ("application/geo+json", "application/json", "application/schema+json"),
    Format.html: ("text/html",),
    Format.csv: ("text/csv",),
    Format.gpkg: ("application/geopackage+sqlite3",),
    Format.fgb: ("application/flatgeobuf",),
}
CACHE_SECONDS = 30  # short: partners sync often and must see edits quickly


def negotiate(f: str | None, accept: str | None, allowed: tuple[Format, ...]) -> Format:
    """The output format: `f` wins; else the first allowed type the Accept header names; else JSON.

    A browser's Accept names text/html before */*, so it gets HTML; GDAL, OWSLib and scripts get JSON.
    """
    if f is not None:
        try:
            chosen = Format(f.strip().lower() if f.strip().lower() != "geojson" else "json")
        except ValueError:
            chosen = None
        if chosen is None or chosen not in allowed:
            names = ", ".join(a.value for a in allowed)
            raise InvalidParameter(
                f"f: '{f[:40]}' is not an output format here; use one of {names}"
            )
        return chosen
    if accept:
        best: tuple[float, int, Format] | None = None
        for position, item in enumerate(accept.split(",")):
            media, _, rest = item.strip().partition(";")
            quality = 1.0
            for param in rest.split(";"):
                key, _, value = param.strip().partition("=")
                if key == "q":
                    try:
                        quality = float(value)
                    except ValueError:
                        quality = 0.0
            for fmt in allowed:
                if media.strip().lower() in ACCEPT[fmt] and quality > 0:
                    candidate = (-quality, position, fmt)
                    if best is None or candidate < best:
                        best = candidate
        if best is not None:
            return best[2]
    return Format.json


class Links:
    """Absolute URLs for this server, from the configured public URL (or a trusted Host header).

    No link carries an API key: a link is copied into pages, logs, caches and referrers, and a key
    in it would be written down everywhere. Clients that pass `?api_key=` (GDAL's OAPIF driver)
    add their own query parameters to every request they make.
    """

    def __init__(self, request: Request) -> None:
        public = request.app.state.settings.api.public_url
        self.base = public or str(request.base_url).rstrip("/")

    def url(self, path: str, params: dict[str, Any] | list[tuple[str, str]] | None = None) -> str:
        pairs = list(params.items()) if isinstance(params, dict) else list(params or [])
        pairs = [(k, v) for k, v in pairs if k != "api_key"]
        query = urlencode([(k, str(v)) for k, v in pairs if v is not None])
        return f"{self.base}{path}{'?' + query if query else ''}"

    def link(
        self,
        path: str,
        rel: str,
        media: str,
        title: str,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
    ) -> dict[str, str]:
        return {"href": self.url(path, params), "rel": rel, "type": media, "title": title}

    def alternates(
        self,
        path: str,
        formats: tuple[Format, ...],
        current: Format,
        what: str,
        params: list[tuple[str, str]] | None = None,
        json_media: str = JSON,
    ) -> list[dict[str, str]]:
        """self + alternate links of a resource in each of its formats."""
        base = [(k, v) for k, v in (params or []) if k != "f"]
        out = []
        for fmt in formats:
            media = json_media if fmt == Format.json else MEDIA[fmt]
            rel = "self" if fmt == current else "alternate"
            out.append(
                self.link(
                    path, rel, media, f"{what} as {fmt.value.upper()}", [*base, ("f", fmt.value)]
                )
            )
        return out


def timestamp(at: dt.datetime | None = None) -> str:
    when = (at or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def feature_collection(features_json: bytes, head: dict[str, Any]) -> bytes:
    """The envelope (serialised alone) with the features spliced in as the last member."""
    return orjson.dumps(head)[:-1] + b',"features":' + features_json + b"}"


def feature_with_links(feature_json: bytes, links: list[dict[str, str]]) -> bytes:
    """A Feature from PostgreSQL (a JSON object) with a `links` member appended."""
    return feature_json.rstrip()[:-1] + b',"links":' + orjson.dumps(links) + b"}"


def cache_headers(principal: Principal) -> dict[str, str]:
    scope = "public" if principal.name is None else "private"
    return {
        "Cache-Control": f"{scope}, max-age={CACHE_SECONDS}",
        "Vary": "Accept, X-API-Key, Cookie",
    }


def respond(
    request: Request,
    body: bytes,
    media: str,
    principal: Principal,
    status: int = 200,
    headers: dict[str, str] | None = None,
    tagged: tuple[bytes, ...] | None = None,
) -> Response:
    """The answer with an ETag, or 304 when the client already holds that content.

    The tag hashes `tagged` (default: the body): a page's tag leaves out its timeStamp, which
    changes on every request while the features do not.
    """
    digest = hashlib.sha1(usedforsecurity=False)
    for part in tagged or (body,):
        digest.update(part)
    tag = 'W/"' + digest.hexdigest() + '"'
    all_headers = {**cache_headers(principal), "ETag": tag, **(headers or {})}
    wanted = request.headers.get("if-none-match")
    held = {t.strip().removeprefix("W/") for t in wanted.split(",")} if wanted else set()
    if status == 200 and ("*" in held or tag.removeprefix("W/") in held):
        return Response(status_code=304, headers=all_headers)
    return Response(content=body, status_code=status, media_type=media, headers=all_headers)


def json_response(
    request: Request, doc: dict[str, Any], principal: Principal, media: str = JSON
) -> Response:
    return respond(request, orjson.dumps(doc), media, principal)
