"""The FastAPI application, built from settings by `create_app` (nothing happens at import)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware

from safeground import __version__
from safeground.api.errors import add_exception_handlers
from safeground.api.routes import collections, health
from safeground.gis.db import make_engine
from safeground.gis.settings import Settings
from safeground.layers import REGISTRY


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(
        title=settings.api.title,
        version=__version__,
        description="Weapon contamination (mine and explosive-remnant hazard areas) next to the "
        "humanitarian work around it. Hazard maps are incomplete: no data is not the same as safe.",
        openapi_url="/api",
        docs_url="/api.html",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database)
    app.state.registry = REGISTRY
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET"])
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    add_exception_handlers(app)
    app.include_router(health.router)
    app.include_router(collections.router)
    return app
