"""The measured pairs coverage counts stay right after every write path: after each write the
answer equals one computed from scratch (the pair tables emptied), and it changed as the write
says it should."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gis.analysis.answers import CoverageAsk, coverage_answer
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY

from .helpers import hazard, point_feature, write_geojson
from .test_analysis_geo import moved
from .test_writes import Api, make_api

HAZARDS = "/collections/hazard_areas/items"
VILLAGES = "/collections/villages/items"
V = (47.20, 40.30)
SETTINGS = AnalysisSettings()
ALL = CoverageAsk(status="all")


def square_m(lon: float, lat: float, side_m: float = 200.0) -> list[tuple[float, float]]:
    """A square whose south-west corner is at lon/lat, about side_m a side."""
    east = moved(lon, lat, 90.0, side_m)[0] - lon
    north = moved(lon, lat, 0.0, side_m)[1] - lat
    return [
        (lon, lat),
        (lon + east, lat),
        (lon + east, lat + north),
        (lon, lat + north),
        (lon, lat),
    ]


@pytest.fixture
def api(settings: Any, committed: sa.Engine) -> Iterator[Api]:
    yield from make_api(settings, committed)
    with committed.begin() as conn:
        conn.exec_driver_sql("DELETE FROM analysis_pairs; DELETE FROM analysis_pair_versions")


def answer(engine: sa.Engine, *, scratch: bool = False) -> dict[str, Any]:
    with engine.connect() as conn:
        if scratch:
            conn.exec_driver_sql("DELETE FROM analysis_pairs; DELETE FROM analysis_pair_versions")
        body = coverage_answer(
            conn, REGISTRY, SETTINGS, Role.admin, CoverageAsk(risk_within_m=3000, status="all")
        ).body
        if not scratch:
            conn.commit()
        else:
            conn.rollback()  # the pairs measured from scratch are thrown away
    return json.loads(body)


def figures(engine: sa.Engine) -> dict[str, tuple[Any, Any]]:
    """Per village name: (hazards_within, nearest_hazard_m), after checking against scratch."""
    fresh, scratch = answer(engine), answer(engine, scratch=True)
    assert fresh["features"] == scratch["features"] and fresh["summary"] == scratch["summary"]
    return {
        f["properties"]["name"]: (
            f["properties"]["hazards_within"],
            f["properties"]["nearest_hazard_m"],
        )
        for f in fresh["features"]
    }


def ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response


def test_every_write_path_keeps_the_measured_pairs_right(api: Api, tmp_path) -> None:
    editor = api.as_(Role.editor)
    client: TestClient = api.client
    far = moved(*V, 90.0, 20_000.0)
    ok(client.post(VILLAGES, json=point_feature("v1", *V, name="near"), headers=editor))
    v2 = ok(client.post(VILLAGES, json=point_feature("v2", *far, name="far"), headers=editor))
    assert figures(api.engine) == {"near": (0, None), "far": (0, None)}

    # POST: a hazard 1 km north of `near`.
    created = ok(
        client.post(HAZARDS, json=hazard("h1", square_m(*moved(*V, 0.0, 1000.0))), headers=editor)
    )
    h1 = created.headers["location"].rsplit("/", 1)[1]
    near = figures(api.engine)["near"]
    assert near[0] == 1 and 995 < near[1] < 1005

    # PUT: moved next to `far`.
    moved_h1 = hazard("h1", square_m(*moved(*far, 180.0, 1500.0)))
    ok(client.put(f"{HAZARDS}/{h1}", json=moved_h1, headers=editor))
    after_put = figures(api.engine)
    assert after_put["near"] == (0, None) and after_put["far"][0] == 1

    # DELETE (soft), then restore by importing the same external_id again.
    ok(client.delete(f"{HAZARDS}/{h1}", headers=editor))
    assert figures(api.engine)["far"] == (0, None)
    ok(client.post(f"{HAZARDS}?restore_deleted=true", json=moved_h1, headers=editor))
    assert figures(api.engine)["far"][0] == 1

    # A file import of two hazards, one cleared (measured, but not counted).
    path = write_geojson(
        tmp_path / "h.geojson",
        [
            hazard("h2", square_m(*moved(*V, 200.0, 600.0))),
            hazard("h3", square_m(*moved(*V, 30.0, 300.0)), status="cleared"),
        ],
    )
    with path.open("rb") as f:
        ok(
            client.post(
                "/collections/hazard_areas/imports",
                files={"file": ("h.geojson", f)},
                headers=editor,
            )
        )
    assert figures(api.engine)["near"][0] == 1

    # A target moves: `far` comes 2 km from h2's corner.
    relocated = point_feature("v2", *moved(*V, 200.0, 2500.0), name="far")
    ok(client.put(v2.headers["location"].split("?")[0], json=relocated, headers=editor))
    assert figures(api.engine)["far"][0] == 1


def test_a_writer_asking_in_its_own_transaction_sees_its_own_write(api: Api) -> None:
    editor = api.as_(Role.editor)
    ok(api.client.post(VILLAGES, json=point_feature("v1", *V, name="near"), headers=editor))
    with api.engine.connect() as conn:
        before = json.loads(coverage_answer(conn, REGISTRY, SETTINGS, Role.admin, ALL).body)
        conn.execute(
            sa.text(
                "INSERT INTO hazard_areas (external_id, source, geom, hazard_type, status, "
                "recorded_on) VALUES ('x', 'test', ST_Multi(ST_GeomFromText(:wkt, 4326)), "
                "'AP_mine', 'confirmed', '2023-01-01')"
            ),
            {
                "wkt": f"POLYGON(({', '.join(f'{x} {y}' for x, y in square_m(*moved(*V, 0, 400.0)))}))"
            },
        )
        inside = json.loads(coverage_answer(conn, REGISTRY, SETTINGS, Role.admin, ALL).body)
        conn.rollback()
        after = json.loads(coverage_answer(conn, REGISTRY, SETTINGS, Role.admin, ALL).body)
    assert before["summary"]["at_risk"] == 0 == after["summary"]["at_risk"]
    assert inside["summary"]["at_risk"] == 1
    assert 395 < inside["features"][0]["properties"]["nearest_hazard_m"] < 405
