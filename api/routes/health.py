"""`/health`: is the database there, and which PostgreSQL and PostGIS."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from gis.db import health as db_health

router = APIRouter(tags=["health"])


@router.get("/health", summary="Database and PostGIS versions")
def health(engine: EngineDep) -> dict[str, str]:
    return {"status": "ok", **db_health(engine)}
