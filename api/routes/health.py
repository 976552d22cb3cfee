"""`/health`: is the database there, and which PostgreSQL and PostGIS; 503 naming what is down."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import EngineDep
from gis.db import health as db_health
from gis.errors import Unavailable

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    summary="Database and PostGIS versions",
    responses={503: {"description": "the database (or PostGIS) is down; `down` names which"}},
)
def health(engine: EngineDep) -> JSONResponse:
    try:
        versions = db_health(engine)
    except Unavailable as exc:
        down = exc.message.partition(" ")[0]  # "database" or "postgis"
        body = {"status": "unavailable", "down": down, "description": exc.message}
        return JSONResponse(body, 503, headers={"Retry-After": str(exc.retry_after_s)})
    return JSONResponse({"status": "ok", **versions})
