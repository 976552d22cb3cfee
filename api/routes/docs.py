"""`/api.html`: the OpenAPI document read with Swagger UI, served from the npm package
`swagger-ui-dist` under `/maps/assets/` (never a CDN: the documentation works on a LAN offline)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from gis.notices import NOT_SAFE
from gis.templating import render

router = APIRouter(tags=["documentation"])
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@router.get("/api.html", response_class=HTMLResponse, include_in_schema=False)
def api_docs(settings: SettingsDep) -> HTMLResponse:
    html = render(
        TEMPLATES,
        "api_docs.html",
        title=settings.api.title,
        assets="maps/assets",
        not_safe=NOT_SAFE,
    )
    return HTMLResponse(html, headers={"Cache-Control": "public, max-age=300"})
