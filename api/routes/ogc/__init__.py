"""OGC API – Features (Part 1: core, GeoJSON, HTML, OpenAPI 3.0) and – Tiles (vector tiles) over
every layer of the registry."""

from fastapi import APIRouter

from api.routes.ogc import collections, items, landing, tiles, writes

router = APIRouter()
# Tiles first: a map asks for dozens at a time, and each request walks the routes in order.
for module in (tiles, landing, collections, items, writes):
    router.include_router(module.router)

__all__ = ["router"]
