"""What the generic routes take that FastAPI cannot see in their signatures, written into the
OpenAPI document: each public layer's property filters, and the imports' multipart file.

A schema-driven client or fuzzer reads only the document; a parameter missing from it is never
sent. Layers the public may not read, and fields it may not see, stay out (the document is public
and must not reveal them).
"""

from __future__ import annotations

import copy
from typing import Any

from gis.query import queryables
from gis.spec import Registry, Role

ITEMS = "/collections/{layer}/items"
IMPORTS = "/collections/{layer}/imports"


def _filter(spec_schema: dict[str, Any], name: str) -> dict[str, Any]:
    schema = copy.deepcopy(spec_schema.get("properties", {}).get(name, {"type": "string"}))
    options = [o for o in schema.pop("anyOf", []) if o.get("type") != "null"]
    if options:  # a filter value is never null: the non-null form of an optional field
        schema = {**options[0], **schema}
    reference = schema.pop("$ref", "")
    if reference.startswith("#/$defs/"):  # an enum of the model: inline it (no $defs here)
        schema = {
            **copy.deepcopy(spec_schema["$defs"][reference.removeprefix("#/$defs/")]),
            **schema,
        }
    schema.pop("default", None)
    schema.pop("title", None)
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": f"only features whose {name} equals this (repeat the parameter: any of)",
        "schema": schema,
    }


def add_layer_paths(document: dict[str, Any], registry: Registry) -> dict[str, Any]:
    """Per public layer, its own /collections/{name}/items with the property filters declared."""
    paths = document.get("paths", {})
    generic = paths.get(ITEMS, {}).get("get")
    if generic is None:
        return document
    for spec in registry.values():
        if not spec.readable_by(Role.public):
            continue
        operation = copy.deepcopy(generic)
        operation["operationId"] = f"items_{spec.name}"
        operation["summary"] = f"{spec.title}: the features, filtered and paged"
        model_schema = spec.properties.model_json_schema()
        parameters = [p for p in operation.get("parameters", []) if p.get("name") != "layer"]
        parameters += [_filter(model_schema, f) for f in queryables(spec, Role.public)]
        operation["parameters"] = parameters
        paths.setdefault(f"/collections/{spec.name}/items", {})["get"] = operation
    upload = paths.get(IMPORTS, {}).get("post")
    if upload is not None and "requestBody" not in upload:
        upload["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    return document
