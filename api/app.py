"""The FastAPI application, built from settings by `create_app` (nothing happens at import)."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api import access_log, openapi30
from api.auth import KeyCache
from api.errors import add_exception_handlers
from api.guard import Bulkhead, CatchAll, RefuseNul, SecurityHeaders
from api.map_session import SessionKeys
from api.numeric_params import check_numeric_parameters
from api.routes import analysis as analysis_routes
from api.routes import docs as doc_routes
from api.routes import health, ogc
from api.routes import maps as map_routes
from api.routes import search as search_routes
from gis.db import make_engine
from gis.download_cache import DownloadCache
from gis.export import MEDIA as FILE_MEDIA
from gis.notices import NOT_SAFE
from gis.roles import LayerRoles
from gis.settings import Settings
from gis.tile_cache import TileCache
from layers import REGISTRY


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Checked before anything else: a setting naming a missing layer stops startup, with a message.
    roles = LayerRoles.of(REGISTRY, settings.analysis)
    app = FastAPI(
        title=settings.api.title,
        version=version("safeground"),
        description="Weapon contamination (mine and explosive-remnant hazard areas) next to the "
        f"humanitarian work around it. {NOT_SAFE}",
        openapi_url="/api",
        docs_url=None,  # /api.html is api/routes/docs.py: Swagger UI from npm, not a CDN
        redoc_url=None,
        # Before any route's own parameters: a 400 naming a number out of range (not a 5xx).
        dependencies=[Depends(check_numeric_parameters)],
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database)
    app.state.registry = REGISTRY
    app.state.roles = roles
    app.state.key_cache = KeyCache(settings.api.key_cache_seconds)
    app.state.tiles = TileCache(int(settings.api.tile_cache_mb * 1024 * 1024))
    app.state.session_keys = SessionKeys(settings.api.key_cache_seconds)
    d = settings.downloads
    app.state.downloads = DownloadCache(d.cache_dir, d.cache_mb, d.cache_max_age_s)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["GET"],
            # a browser client must be able to send its key and revalidate with its ETag
            allow_headers=["X-API-Key", "If-None-Match"],
            expose_headers=["ETag"],
        )
    # Level 5: most of level 9's saving on JSON at a fraction of its CPU (pages run to megabytes).
    # Whole-layer files keep their own bytes: a Content-Length, byte ranges and a strong ETag
    # must all describe the same representation (GDAL's /vsicurl/ reads them by ranges).
    files = (*DEFAULT_EXCLUDED_CONTENT_TYPES, FILE_MEDIA["fgb"], FILE_MEDIA["gpkg"])
    app.add_middleware(
        GZipMiddleware, minimum_size=1000, compresslevel=5, exclude_content_types=files
    )
    api = settings.api
    app.add_middleware(
        Bulkhead, total=api.heavy_concurrency, per_caller=api.heavy_per_key, wait_s=api.heavy_wait_s
    )
    app.add_middleware(RefuseNul)
    app.add_middleware(SecurityHeaders)
    if api.public_url is None:
        # Links are built from the Host header only when it is one of ours (else 400).
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=api.trusted_hosts)
    app.add_middleware(CatchAll)  # outermost: whatever fails below, the connection survives
    access_log.install()
    add_exception_handlers(app)
    app.include_router(health.router)
    app.include_router(map_routes.router)
    app.include_router(doc_routes.router)
    app.include_router(ogc.router)
    app.include_router(analysis_routes.router)
    app.include_router(search_routes.router)
    openapi30.install(app)
    return app
