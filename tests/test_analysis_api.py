"""`/analysis/...` over HTTP: formats, access by role, and no 5xx whatever the parameters."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
import shapely
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from gis.access import create_key
from gis.settings import AnalysisSettings, Settings
from gis.spec import Role

from .test_analysis_geo import add, blob, box_north_of, moved

V = (46.90, 40.00)
WINDOW = {"since": "2025-01-01", "until": "2025-12-31"}


@pytest.fixture
def world(committed: sa.Engine) -> Iterator[dict[str, str]]:
    """Two villages near a hazard (one covered), a district, and a partner key."""
    with committed.begin() as conn:
        add(
            conn,
            "districts",
            blob(*V, 10_000.0, vertices=24),
            name="Aghdam",
            code="AZ.AM",
            name_az="Ağdam",
            name_az_ascii="Agdam",
        )
        add(conn, "villages", shapely.Point(V), name="Uncovered", population=800)
        add(
            conn, "villages", shapely.Point(moved(*V, 90.0, 4000.0)), name="Covered", population=300
        )
        add(conn, "hazard_areas", box_north_of(*V, 600.0), name="SHA 1", notes="staff only")
        add(conn, "outreach_sessions", shapely.Point(moved(*V, 90.0, 4200.0)), held_on="2025-05-05")
        keys = {
            "partner": create_key(conn, "partner", Role.partner),
            "staff": create_key(conn, "staff", Role.staff),
        }
    yield keys


@pytest.fixture
def client(settings: Settings, tmp_path) -> Iterator[TestClient]:
    app_settings = settings.model_copy(update={"analysis": AnalysisSettings(rasters={})})
    with TestClient(create_app(app_settings), raise_server_exceptions=False) as c:
        yield c


def test_coverage_as_geojson_with_summary_for_a_partner(client, world) -> None:
    r = client.get(
        "/analysis/coverage",
        params={**WINDOW, "district": "agdam"},
        headers={"X-API-Key": world["partner"]},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Uncovered"]
    assert body["features"][0]["properties"]["nearest_hazard_m"] == pytest.approx(600.0, abs=0.5)
    assert (
        body["summary"]["coverage_pct"] == 50.0
        and body["summary"]["districts"][0]["district"] == "Aghdam"
    )
    assert body["parameters"]["district"] == "Aghdam (AZ.AM)"
    assert "does NOT mean" in body["notice"]


def test_coverage_as_csv_one_row_per_target(client, world) -> None:
    r = client.get(
        "/analysis/coverage",
        params={**WINDOW, "status": "all", "f": "csv"},
        headers={"X-API-Key": world["partner"]},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["name"] for row in rows] == ["Uncovered", "Covered"]
    assert (
        rows[0]["lon"] == "46.9"
        and rows[0]["covered"] == "False"
        and rows[1]["last_by_on"] == "2025-05-05"
    )


def test_anonymous_coverage_needs_risk_none_and_then_reads_no_hazard(client, world) -> None:
    refused = client.get("/analysis/coverage", params=WINDOW)
    assert refused.status_code == 403 and "risk_within_m=none" in refused.json()["description"]
    r = client.get(
        "/analysis/coverage", params={**WINDOW, "risk_within_m": "none", "status": "all"}
    )
    assert r.status_code == 200
    for f in r.json()["features"]:
        assert "nearest_hazard_m" not in f["properties"] and "hazards_within" not in f["properties"]


def test_hidden_layers_answer_as_unknown_ones(client, world) -> None:
    hidden = client.get(
        "/analysis/nearest", params={"layer": "hazard_areas", "lon": 46.9, "lat": 40}
    )
    unknown = client.get(
        "/analysis/nearest", params={"layer": "minefields", "lon": 46.9, "lat": 40}
    )
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["description"].replace("hazard_areas", "?") == unknown.json()[
        "description"
    ].replace("minefields", "?")
    target = client.get(
        "/analysis/coverage", params={"target": "distributions", "risk_within_m": "none"}
    )
    assert target.status_code == 404


def test_fields_reserved_to_staff_stay_hidden_from_partners(client, world) -> None:
    params = {"layer": "hazard_areas", "lon": V[0], "lat": V[1], "k": 1}
    partner = client.get(
        "/analysis/nearest", params=params, headers={"X-API-Key": world["partner"]}
    ).json()
    staff = client.get(
        "/analysis/nearest", params=params, headers={"X-API-Key": world["staff"]}
    ).json()
    assert "notes" not in partner["features"][0]["properties"]
    assert staff["features"][0]["properties"]["notes"] == "staff only"
    line = {
        "type": "LineString",
        "coordinates": [moved(*V, 270.0, 2000.0), moved(*V, 90.0, 2000.0)],
    }
    route = client.post(
        "/analysis/route-check",
        json=line,
        params={"buffer_m": 1000},
        headers={"X-API-Key": world["partner"]},
    ).json()
    assert (
        route["features"][0]["properties"]["name"] == "SHA 1"
        and "notes" not in route["features"][0]["properties"]
    )


def test_route_check_and_exposure_need_a_key(client, world) -> None:
    line = {"type": "LineString", "coordinates": [[46.8, 40.0], [47.0, 40.0]]}
    assert client.post("/analysis/route-check", json=line).status_code == 403
    assert client.get("/analysis/exposure").status_code == 403
    r = client.get(
        "/analysis/exposure", params={"within_m": 1000}, headers={"X-API-Key": world["partner"]}
    )
    assert r.status_code == 200 and r.json()["summary"]["people_exposed"] == 800


def test_within_post_and_get_agree(client, world) -> None:
    get = client.get(
        "/analysis/within",
        params={"layer": "villages", "lon": V[0], "lat": V[1], "distance_m": 5000},
    )
    post = client.post(
        "/analysis/within",
        params={"layer": "villages", "distance_m": 5000},
        json={"type": "Point", "coordinates": list(V)},
    )
    assert get.status_code == post.status_code == 200
    assert get.json()["features"] == post.json()["features"]


def test_openapi_documents_the_priority_formula(client) -> None:
    spec = client.get("/api").json()
    description = json.dumps(spec["paths"]["/analysis/coverage"])
    assert "log10(1 + population)" in description and "risk_within_m=none" in description


# --- no 5xx, whatever comes in ------------------------------------------------------------------

NASTY = [
    "",
    " ",
    "-1",
    "0",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "NaN",
    "1e-320",
    "10000000000",
    "abc",
    "'; DROP TABLE villages; --",
    "%00",
    "\u0000",
    "ﬀ",
    "🙂" * 50,
    "[1]",
    "{}",
    "2025-02-30",
    "9999-12-31",
    "0001-01-01",
    "none",
    "None",
    "1,5",
    "0x10",
    "-0",
    "  7  ",
]
ENDPOINTS = {
    "/analysis/coverage": [
        "target",
        "by",
        "within_m",
        "since",
        "until",
        "risk_within_m",
        "district",
        "status",
        "f",
    ],
    "/analysis/nearest": ["layer", "lon", "lat", "k", "village", "f"],
    "/analysis/within": ["layer", "lon", "lat", "distance_m", "limit", "f"],
    "/analysis/exposure": ["within_m", "district", "raster", "f"],
}
BASE = {"layer": "villages", "lon": "46.9", "lat": "40.0", "risk_within_m": "none"}


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_nasty_query_values_never_give_a_5xx(client, world, path) -> None:
    headers = {"X-API-Key": world["staff"]}
    for name in ENDPOINTS[path]:
        for value in NASTY:
            r = client.get(path, params={**BASE, name: value}, headers=headers)
            assert r.status_code < 500, (path, name, value, r.text)
            if r.status_code >= 400:
                assert r.json()["description"], (path, name, value)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["type", "coordinates", "geometry"]), inner, max_size=3)
    ),
    max_leaves=12,
)
geometry_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Point", "LineString", "Polygon", "Feature", "MultiPolygon", "x"]),
        "coordinates": json_values,
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(json_values, geometry_like),
    buffer_m=st.floats(allow_nan=False, allow_infinity=False) | st.just(500.0),
)
def test_fuzzed_bodies_never_give_a_5xx(client, world, body, buffer_m) -> None:
    # Python's json writes NaN and Infinity as bare words, as careless clients do: the server
    # must refuse those bodies too, so they are sent as text rather than through httpx's json=.
    headers = {"X-API-Key": world["staff"], "Content-Type": "application/json"}
    content = json.dumps(body)
    r = client.post(
        "/analysis/route-check", params={"buffer_m": buffer_m}, content=content, headers=headers
    )
    assert r.status_code < 500, (body, r.text)
    r = client.post(
        "/analysis/within",
        params={"layer": "villages", "distance_m": 100},
        content=content,
        headers=headers,
    )
    assert r.status_code < 500, (body, r.text)


def test_no_feature_repeats_a_property_name(client, world) -> None:
    def unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), keys
        return dict(pairs)

    headers = {"X-API-Key": world["staff"]}
    line = {
        "type": "LineString",
        "coordinates": [moved(*V, 270.0, 2000.0), moved(*V, 90.0, 6000.0)],
    }
    for r in (
        client.get("/analysis/coverage", params={**WINDOW, "status": "all"}, headers=headers),
        client.get(
            "/analysis/nearest",
            params={"layer": "villages", "lon": V[0], "lat": V[1]},
            headers=headers,
        ),
        client.post("/analysis/route-check", json=line, params={"buffer_m": 1000}, headers=headers),
    ):
        assert r.status_code == 200
        json.loads(r.text, object_pairs_hook=unique)
