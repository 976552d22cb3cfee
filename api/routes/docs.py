"""`/api.html`: the interactive API documentation (Swagger UI), served from node_modules.

FastAPI's own page loads Swagger UI from a CDN, which the pages' Content-Security-Policy (no
external origin) would block and which an offline deployment cannot reach.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from gis.errors import NotFound
from gis.maps.assets import MapSettings

router = APIRouter(include_in_schema=False)
PACKAGE = "swagger-ui-dist"
FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


@router.get("/api.html")
def docs(request: Request) -> HTMLResponse:
    # Relative URLs: they keep working behind a proxy that mounts the app under a prefix.
    return get_swagger_ui_html(
        openapi_url="api",
        title=f"{request.app.title} API",
        swagger_js_url="api-assets/swagger-ui-bundle.js",
        swagger_css_url="api-assets/swagger-ui.css",
        swagger_favicon_url="api-assets/favicon-32x32.png",
    )


@router.get("/api-assets/{name}")
def asset(request: Request, name: Annotated[str, Path()]) -> FileResponse:
    if name not in FILES:
        raise NotFound(f"no documentation asset '{name[:80]}'")
    settings = getattr(request.app.state, "map_settings", None) or MapSettings()
    return FileResponse(
        settings.node_modules / PACKAGE / name,
        media_type=FILES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
