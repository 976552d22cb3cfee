"""`/search?q=`: places, districts and facilities by name, in JSON or GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from api.deps import EngineDep, PrincipalDep, RegistryDep, SettingsDep, format_dep
from api.responses import GEOJSON, JSON, Format, respond
from gis.errors import InvalidParameter
from gis.items import read_connection
from gis.search import LANGS, MAX_HITS, Hit, search

router = APIRouter(tags=["Search"])


def _layers(settings: SettingsDep) -> tuple[str, ...]:
    a = settings.analysis
    return (a.place_layer, a.area_layer, a.facility_layer)


def hit_json(hit: Hit, lang: str) -> dict[str, Any]:
    return {
        "layer": hit.layer,
        "id": hit.id,
        "label": hit.label(lang),
        "name": hit.name,
        "name_az": hit.name_az,
        "name_en": hit.name_en,
        "name_ru": hit.name_ru,
        "district": hit.district,
        "district_code": hit.district_code,
        "lon": hit.lon,
        "lat": hit.lat,
        "score": hit.score,
        "exact": hit.exact,
        "href": f"/collections/{hit.layer}/items/{hit.id}",
    }


@router.get(
    "/search",
    summary="Find a place by name (Azerbaijani, English or Russian; accents and typos forgiven)",
)
def search_places(
    request: Request,
    engine: EngineDep,
    registry: RegistryDep,
    settings: SettingsDep,
    principal: PrincipalDep,
    fmt: Annotated[Format, format_dep(Format.json)],
    q: Annotated[str, Query(max_length=200, description="a place name, e.g. Quzanlı, Кузанлы")],
    limit: Annotated[int, Query(ge=1, le=MAX_HITS, description="hits at most")] = 20,
    district: Annotated[
        str | None, Query(max_length=200, description="only hits in this district (name or code)")
    ] = None,
    lang: Annotated[str, Query(description="label language: az, en or ru")] = "az",
    geojson: Annotated[bool, Query(description="answer as a GeoJSON FeatureCollection")] = False,
) -> Response:
    if lang not in LANGS:
        raise InvalidParameter(f"lang must be one of {', '.join(LANGS)}")
    names = _layers(settings)
    specs = [registry[n] for n in names if n in registry]
    districts = registry.get(settings.analysis.area_layer)
    with read_connection(engine) as conn:
        hits = search(
            conn, specs, principal.role, q, limit=limit, districts=districts, district=district
        )
    items = [hit_json(h, lang) for h in hits]
    if geojson or "geo+json" in request.headers.get("accept", ""):
        doc: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": f"{h['layer']}.{h['id']}",
                    "geometry": {"type": "Point", "coordinates": [h["lon"], h["lat"]]},
                    "properties": h,
                }
                for h in items
            ],
        }
        return respond(request, orjson.dumps(doc), GEOJSON, principal)
    return respond(request, orjson.dumps({"query": q, "hits": items}), JSON, principal)
