"""`/collections`, `/collections/{layer}` and its queryables: what each layer is, for this caller."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Request, Response

from api.deps import EngineDep, LayerDep, PrincipalDep, RegistryDep
from api.responses import CSV, GEOJSON, GPKG, HTML, JSON, SCHEMA, Format, Links, respond
from api.routes.ogc.landing import DOC_FORMATS, DocFormat, document
from api.routes.ogc.tiles import TILESETS_VECTOR
from gis.catalog import LayerFacts, layer_facts
from gis.items import read_connection
from gis.params import CRS84
from gis.query import queryables
from gis.spec import LayerSpec, Role

router = APIRouter(tags=["OGC API - Features"])
GREGORIAN = "http://www.opengis.net/def/uri/ISO-8601/0/Gregorian"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SYNTHETIC_NOTICE = "This layer holds synthetic demo data: invented records, not real observations."


def _instant(day: dt.date | None, end: bool) -> str | None:
    if day is None:
        return None
    return f"{day.isoformat()}T{'23:59:59' if end else '00:00:00'}Z"


def collection_doc(links: Links, spec: LayerSpec, facts: LayerFacts, fmt: Format) -> dict[str, Any]:
    path = f"/collections/{spec.name}"
    extent: dict[str, Any] = {}
    if facts.bbox is not None:
        extent["spatial"] = {"bbox": [list(facts.bbox)], "crs": CRS84}
    if facts.temporal is not None and facts.temporal != (None, None):
        start, end = facts.temporal
        extent["temporal"] = {
            "interval": [[_instant(start, False), _instant(end, True)]],
            "trs": GREGORIAN,
        }
    items = f"{path}/items"
    doc: dict[str, Any] = {
        "id": spec.name,
        "title": spec.title,
        "description": spec.description,
        "itemType": "feature",
        "crs": [CRS84],
        "geometryType": spec.geometry_type,
        "synthetic": facts.synthetic,
        "itemCount": facts.feature_count,
        "links": [
            *links.alternates(path, DOC_FORMATS, fmt, "this collection"),
            links.link(items, "items", GEOJSON, "the features as GeoJSON", {"f": "json"}),
            links.link(items, "items", HTML, "the features as HTML", {"f": "html"}),
            links.link(items, "items", CSV, "the features as CSV", {"f": "csv"}),
            links.link(items, "items", GPKG, "the features as a GeoPackage", {"f": "gpkg"}),
            links.link(
                f"{path}/queryables", QUERYABLES_REL, SCHEMA, "the fields one can filter on"
            ),
            links.link(f"{path}/tiles", TILESETS_VECTOR, JSON, "the vector tilesets (MVT)"),
        ],
    }
    if extent:
        doc["extent"] = extent
    if spec.temporal_field:
        doc["temporalField"] = spec.temporal_field
    if spec.attribution:
        doc["attribution"] = spec.attribution
    if spec.license:
        doc["license"] = spec.license
    return doc


def notices(spec: LayerSpec, synthetic: bool) -> tuple[str, ...]:
    return tuple(n for n in (spec.notice, SYNTHETIC_NOTICE if synthetic else "") if n)


@router.get("/collections", summary="The layers this caller may read")
def collections(
    request: Request,
    engine: EngineDep,
    registry: RegistryDep,
    principal: PrincipalDep,
    fmt: DocFormat,
) -> Response:
    links = Links(request)
    specs = registry.readable(principal.role)
    with read_connection(engine) as conn:
        facts = {s.name: layer_facts(conn, s) for s in specs}
    doc = {
        "collections": [collection_doc(links, s, facts[s.name], Format.json) for s in specs],
        "links": links.alternates("/collections", DOC_FORMATS, fmt, "the collections"),
    }
    return document(request, doc, fmt, principal, "Collections")


@router.get("/collections/{layer}", summary="One layer: extent, licence, links")
def collection(
    request: Request, spec: LayerDep, engine: EngineDep, principal: PrincipalDep, fmt: DocFormat
) -> Response:
    with read_connection(engine) as conn:
        facts = layer_facts(conn, spec)
    doc = collection_doc(Links(request), spec, facts, fmt)
    return document(request, doc, fmt, principal, spec.title, notices(spec, facts.synthetic))


# JSON Schema keywords a queryable keeps from the properties model (validation-only ones dropped).
SCHEMA_KEYS = ("type", "format", "enum", "minimum", "maximum", "maxLength", "description")


def _schema(spec: LayerSpec, name: str, model: dict[str, Any]) -> dict[str, Any]:
    """One queryable's schema, from the layer's properties model (enums inlined, nullability
    dropped: a filter value is never null); a column without a model field by its SQL type."""
    node: dict[str, Any] = model.get("properties", {}).get(name, {})
    options = [o for o in node.get("anyOf", [node]) if o.get("type") != "null"]
    chosen = options[0] if len(options) == 1 else {}
    if "$ref" in chosen:
        chosen = model.get("$defs", {}).get(chosen["$ref"].rsplit("/", 1)[-1], {})
    schema = {k: chosen[k] for k in SCHEMA_KEYS if k in chosen}
    if "type" not in schema:
        kind = spec.table.c[name].type
        schema["type"] = (
            "integer" if isinstance(kind, sa.Integer) else
            "number" if isinstance(kind, sa.Float) else "string"
        )  # fmt: skip
        if isinstance(kind, sa.Date):
            schema["format"] = "date"
    return {"title": name.replace("_", " "), **schema}


def queryables_doc(links: Links, spec: LayerSpec, role: Role) -> dict[str, Any]:
    """JSON Schema of the fields this role may filter and sort on (hidden ones are not listed)."""
    model = spec.properties.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": links.url(f"/collections/{spec.name}/queryables"),
        "type": "object",
        "title": spec.title,
        "properties": {name: _schema(spec, name, model) for name in queryables(spec, role)},
        "additionalProperties": False,
    }


@router.get("/collections/{layer}/queryables", summary="The fields one may filter and sort on")
def collection_queryables(
    request: Request, spec: LayerDep, principal: PrincipalDep, fmt: DocFormat
) -> Response:
    doc = queryables_doc(Links(request), spec, principal.role)
    if fmt == Format.html:
        return document(request, doc, fmt, principal, f"{spec.title}: queryables")
    return respond(request, orjson.dumps(doc), SCHEMA, principal)
