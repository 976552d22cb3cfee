"""A route check allowed by every cap but too big to finish is refused before it runs, naming the
parameter to lower; the same route with a small corridor is answered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import shapely
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from gis.access import create_key
from gis.settings import AnalysisSettings, Settings
from gis.spec import Role

from .test_analysis_geo import add

POSITIONS = 9_999


@pytest.fixture
def partner(settings: Settings, committed: sa.Engine) -> Iterator[tuple[TestClient, str]]:
    with committed.begin() as conn:
        for i in range(400):  # a grid of small hazard areas, 0.1° apart, around the route
            lon, lat = 45.5 + (i % 40) * 0.1, 39.0 + (i // 40) * 0.1
            add(conn, "hazard_areas", shapely.box(lon, lat, lon + 0.01, lat + 0.01))
        key = create_key(conn, "partner", Role.partner)
    app = create_app(settings.model_copy(update={"analysis": AnalysisSettings(rasters={})}))
    with TestClient(app) as client:
        yield client, key
    app.state.engine.dispose()


def _route() -> dict:
    # ~470 km across the grid, with a small zig-zag so that no position can be simplified away
    coords = [[45.5 + 3.9 * i / (POSITIONS - 1), 39.0 + 0.9 * i / (POSITIONS - 1) + 1e-4 * (i % 2)]
              for i in range(POSITIONS)]  # fmt: skip
    return {"type": "LineString", "coordinates": coords}


def test_a_route_check_too_big_to_finish_is_refused_naming_buffer_m(partner) -> None:
    client, key = partner
    response = client.post("/analysis/route-check?buffer_m=100000", json=_route(),
                           headers={"X-API-Key": key})  # fmt: skip
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["field"] == "buffer_m"
    assert "lower buffer_m" in error["reason"] and f"{POSITIONS:,} positions" in error["reason"]


def test_the_same_route_with_a_narrow_corridor_is_answered(partner) -> None:
    client, key = partner
    response = client.post("/analysis/route-check?buffer_m=500", json=_route(),
                           headers={"X-API-Key": key})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["summary"]["hazards"] > 0
