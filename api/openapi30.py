"""The API definition as OpenAPI 3.0, which OGC API – Features (conformance class oas30) asks for.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12); the few 3.1-only spellings it uses are
rewritten to their 3.0 equivalents: `anyOf [X, null]` → `nullable`, `examples` → `example`,
`const` → one-value `enum`, numeric `exclusiveMinimum`/`exclusiveMaximum` → the boolean form.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.openapi_params import add_layer_paths

OPENAPI_VERSION = "3.0.3"


def _schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _schema(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and any(o == {"type": "null"} for o in options):
            rest = [o for o in options if o != {"type": "null"}]
            out.pop(key)
            if len(rest) == 1 and isinstance(rest[0], dict) and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            elif rest:
                out[key] = rest
            out["nullable"] = True
    if out.get("type") == "null":
        out.pop("type")
        out["nullable"] = True
    if isinstance(out.get("examples"), list) and "in" not in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[plain] = value
            out[bound] = True
    if "contentMediaType" in out:
        out.pop("contentMediaType")
        out["format"] = "binary"
    return out


def downgrade(document: dict[str, Any]) -> dict[str, Any]:
    converted = _schema(document)
    converted["openapi"] = OPENAPI_VERSION
    converted.pop("jsonSchemaDialect", None)
    return converted


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (served at the app's openapi_url) return the 3.0 document, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = downgrade(add_layer_paths(document, app.state.registry))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
