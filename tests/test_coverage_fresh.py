"""The measured pairs and figures coverage counts stay right after every write path: each write
refreshes them in its own transaction (no stamp is left stale), the answer read afterwards in a
READ ONLY transaction equals one computed from scratch (the analysis tables emptied), and it
changed as the write says it should. A plain SQL write that bypasses the app leaves stamps
stale; a read-only question is still right, measuring those pairs on the fly."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gis.analysis import pairs
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
H, T = REGISTRY["hazard_areas"], REGISTRY["villages"]
ANALYSIS_TABLES = (
    "DELETE FROM analysis_pairs; DELETE FROM analysis_pair_versions; "
    "DELETE FROM analysis_target_figures; DELETE FROM analysis_pairings"
)


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
    with committed.begin() as conn:
        pairs.declare(conn, H, T)  # as `safeground demo load` does: the writes keep it from now on
    yield from make_api(settings, committed)
    with committed.begin() as conn:
        conn.exec_driver_sql(ANALYSIS_TABLES)


def answer(engine: sa.Engine, ask: CoverageAsk, *, scratch: bool = False) -> dict[str, Any]:
    """The answer read in a READ ONLY transaction (so a read provably writes nothing), or from
    scratch: every analysis table emptied first, in a transaction thrown away."""
    with engine.connect() as conn:
        if scratch:
            conn.exec_driver_sql(ANALYSIS_TABLES)
        else:
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        body = coverage_answer(conn, REGISTRY, SETTINGS, Role.admin, ask).body
        conn.rollback()
    return json.loads(body)


def unchanged(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        return pairs.unchanged(conn, H, T)


def stale(engine: sa.Engine) -> tuple[list[int], list[int]]:
    with engine.connect() as conn:
        return pairs.stale(conn, H, T)


ASKS = (
    CoverageAsk(risk_within_m=3000, status="all"),  # counted from the stored pairs
    CoverageAsk(risk_within_m=5000, status="all"),  # the stored reach: the stored figures
    CoverageAsk(risk_within_m=7000, status="all"),  # beyond it: measured for the question
)


def figures(engine: sa.Engine, *, app_wrote: bool = True) -> dict[str, tuple[Any, Any]]:
    """Per village name: (hazards_within, nearest_hazard_m) within 3 km, after checking that an
    app write left nothing stale and that every answer equals the one from scratch."""
    if app_wrote:  # nothing stale, and the counters recorded: questions skip the stale check
        assert stale(engine) == ([], []) and unchanged(engine)
    for ask in ASKS:
        fresh, scratch = answer(engine, ask), answer(engine, ask, scratch=True)
        assert fresh["features"] == scratch["features"] and fresh["summary"] == scratch["summary"]
    fresh = answer(engine, ASKS[0])
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


def polygon_wkt(ring: list[tuple[float, float]]) -> str:
    return f"POLYGON(({', '.join(f'{x} {y}' for x, y in ring)}))"


def test_a_plain_sql_write_is_answered_right_by_a_read_only_question(api: Api) -> None:
    editor = api.as_(Role.editor)
    client: TestClient = api.client
    far = moved(*V, 90.0, 20_000.0)
    ok(client.post(VILLAGES, json=point_feature("v1", *V, name="near"), headers=editor))
    ok(client.post(VILLAGES, json=point_feature("v2", *far, name="far"), headers=editor))
    north = hazard("h1", square_m(*moved(*V, 0.0, 1000.0)))
    ok(client.post(HAZARDS, json=north, headers=editor))
    assert figures(api.engine)["near"][0] == 1
    assert unchanged(api.engine), "after an app write a question may skip the stale check"

    # A plain write rolled back changes nothing, and the counters say so.
    with api.engine.connect() as conn:
        conn.exec_driver_sql("UPDATE hazard_areas SET hazard_type = hazard_type")
        conn.rollback()
    assert unchanged(api.engine)

    # Behind the app's back: h1 moved to 400 m north, committed, no refresh.
    with api.engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE hazard_areas SET geom = ST_Multi(ST_GeomFromText(:wkt, 4326)) "
                "WHERE external_id = 'h1'"
            ),
            {"wkt": polygon_wkt(square_m(*moved(*V, 0.0, 400.0)))},
        )
    assert stale(api.engine)[0], "the plain UPDATE must leave h1's stamp stale"
    assert not unchanged(api.engine), "its statement moved the layer's counter"
    near = figures(api.engine, app_wrote=False)["near"]
    assert near[0] == 1 and 395 < near[1] < 405

    # More of them: a new hazard 2 km south, h1 cleared, the far village hard-deleted.
    with api.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO hazard_areas (external_id, source, geom, hazard_type, status, "
                "recorded_on) VALUES ('h4', 'test', ST_Multi(ST_GeomFromText(:wkt, 4326)), "
                "'AP_mine', 'confirmed', '2023-01-01')"
            ),
            {"wkt": polygon_wkt(square_m(*moved(*V, 180.0, 2200.0)))},
        )
        conn.exec_driver_sql(
            "UPDATE hazard_areas SET status = 'cleared', status_changed_on = '2024-01-01' "
            "WHERE external_id = 'h1'"
        )
        conn.exec_driver_sql("DELETE FROM villages WHERE external_id = 'v2'")
    after = figures(api.engine, app_wrote=False)
    assert set(after) == {"near"} and after["near"][0] == 1 and 1995 < after["near"][1] < 2005
    assert stale(api.engine) != ([], []), "a read must not have refreshed anything"

    # The next write through the app catches up on everything, in its own transaction.
    ok(client.post(VILLAGES, json=point_feature("v3", *far, name="far again"), headers=editor))
    assert figures(api.engine) == {"near": after["near"], "far again": (0, None)}
    assert stale(api.engine) == ([], []) and unchanged(api.engine)


def test_the_stored_figures_follow_the_time_rule(api: Api) -> None:
    """A village's stored figures answer a question as of a day on which every hazard near it had
    been recorded and had taken its status; an earlier day is counted from the pairs."""
    editor = api.as_(Role.editor)
    client: TestClient = api.client
    ok(client.post(VILLAGES, json=point_feature("v1", *V, name="near"), headers=editor))
    for feature in (
        hazard("a", square_m(*moved(*V, 0.0, 1000.0)), recorded_on="2024-01-01"),
        hazard("b", square_m(*moved(*V, 90.0, 800.0)), recorded_on="2025-06-01"),
        hazard(
            "c",
            square_m(*moved(*V, 180.0, 800.0)),
            status="cleared",
            recorded_on="2023-01-01",
            status_changed_on="2025-06-01",
        ),
    ):
        ok(client.post(HAZARDS, json=feature, headers=editor))
    assert stale(api.engine) == ([], [])
    with api.engine.connect() as conn:
        settled = conn.execute(sa.select(pairs.figures_table.c.settled_on)).scalars().all()
    assert [str(d) for d in settled] == ["2025-06-01"]

    def near(until: str | None) -> tuple[Any, Any]:
        ask = CoverageAsk(
            risk_within_m=5000, status="all", until=until and dt.date.fromisoformat(until)
        )
        fresh, scratch = answer(api.engine, ask), answer(api.engine, ask, scratch=True)
        assert fresh["features"] == scratch["features"] and fresh["summary"] == scratch["summary"]
        p = fresh["features"][0]["properties"]
        return p["hazards_within"], p["nearest_hazard_m"]

    before_b = near("2025-03-01")  # a and c (not yet cleared); b not yet recorded
    assert before_b[0] == 2 and 595 < before_b[1] < 605  # c's north edge, 600 m south
    for until in ("2025-12-31", None):  # a and b; c cleared
        count, nearest = near(until)
        assert count == 2 and 795 < nearest < 805
