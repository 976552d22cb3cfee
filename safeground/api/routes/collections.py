"""`/collections`: the layers a caller may read, with their feature counts."""

from __future__ import annotations

from fastapi import APIRouter

from safeground.api.deps import EngineDep, RegistryDep
from safeground.gis.catalog import feature_counts
from safeground.gis.spec import Role

router = APIRouter(tags=["collections"])


@router.get("/collections", summary="The layers")
def collections(engine: EngineDep, registry: RegistryDep) -> dict[str, object]:
    specs = registry.readable(Role.admin)
    with engine.connect() as conn:
        counts = feature_counts(conn, specs)
    return {
        "collections": [
            {
                "id": s.name,
                "title": s.title,
                "description": s.description,
                "geometryType": s.geometry_type,
                "featureCount": counts[s.name],
            }
            for s in specs
        ]
    }
