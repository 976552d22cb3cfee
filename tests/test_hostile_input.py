"""Classes of hostile input, drawn by hypothesis, through every door they can enter (query
parameters, path segments, JSON bodies, CSV uploads): never a 5xx, and a refusal names the field.

The classes: NUL bytes, datetimes at the ends of the calendar with offsets, integers beyond 64
bits, non-finite numbers, objects where a scalar belongs, CRS strings PROJ cannot parse, odd bytes
in asset paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from gis.access import create_key
from gis.settings import AnalysisSettings, ApiSettings
from gis.spec import Role

from .conftest import settings_for

FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

nul_text = st.text(max_size=8).map(lambda t: t[: len(t) // 2] + "\x00" + t[len(t) // 2 :])
calendar_end = st.builds(
    lambda year, sign, hours, date_only: f"{year:04d}-{'01-01' if year == 1 else '12-31'}"
    + ("" if date_only else f"T00:00:00{sign}{hours:02d}:00"),
    st.sampled_from([1, 9999]), st.sampled_from(["+", "-"]), st.integers(0, 23), st.booleans(),
)  # fmt: skip
huge_int = st.integers(min_value=2**63, max_value=2**80).flatmap(
    lambda n: st.sampled_from([str(n), str(-n)])
)
non_finite = st.sampled_from(["inf", "-inf", "nan", "Infinity", "NaN", "1e999"])
hostile_text = st.one_of(nul_text, calendar_end, huge_int, non_finite)

ITEMS_PARAMS = ["datetime", "updated_since", "bbox", "limit", "offset", "cursor", "sortby",
                "facility_type", "rehabilitated_on", "organisation", "f", "crs", "bbox-crs"]  # fmt: skip
ANALYSIS = [
    ("/analysis/nearest?layer=villages&k=3", ["lon", "lat", "village", "k"]),
    ("/analysis/within?layer=facilities&lon=46.9&lat=40", ["distance_m", "limit", "lon"]),
    ("/analysis/coverage?risk_within_m=none", ["since", "until", "within_m", "district"]),
    ("/maps/visit?radius_m=500", ["village", "lon", "radius_m"]),
]


@pytest.fixture(scope="module")
def hostile(database_url: sa.URL) -> Iterator[tuple[TestClient, str, sa.Engine]]:
    app_settings = settings_for(database_url).model_copy(
        update={
            "api": ApiSettings(key_cache_seconds=60, heavy_per_key=50),
            "analysis": AnalysisSettings(rasters={}),
        }
    )
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        key = create_key(conn, "hostile editor", Role.admin)
    app = create_app(app_settings)
    with TestClient(app) as client:
        yield client, key, engine
    app.state.engine.dispose()
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log; DELETE FROM api_keys")
        conn.exec_driver_sql("TRUNCATE facilities, distributions, import_batches CASCADE")
    engine.dispose()


def _refused_cleanly(response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400 and response.headers["content-type"].startswith("application"):
        body = response.json()
        assert body["description"] and "Traceback" not in response.text
        assert "SELECT" not in response.text and "psycopg" not in response.text


@FAST
@given(name=st.sampled_from(ITEMS_PARAMS), value=hostile_text)
def test_items_parameters_refuse_hostile_values(hostile, name: str, value: str) -> None:
    client, key, _ = hostile
    response = client.get(f"/collections/facilities/items?{name}={quote(value)}",
                          headers={"X-API-Key": key})  # fmt: skip
    _refused_cleanly(response)
    if "\x00" in value:
        assert response.status_code == 400 and name in response.json()["description"]


@FAST
@given(route=st.sampled_from(ANALYSIS), data=st.data())
def test_analysis_and_map_parameters_refuse_hostile_values(hostile, route, data) -> None:
    client, key, _ = hostile
    path, names = route
    name = data.draw(st.sampled_from(names))
    value = data.draw(hostile_text)
    _refused_cleanly(client.get(f"{path}&{name}={quote(value)}", headers={"X-API-Key": key}))


# Percent-encoded bytes in one path segment. Not "/": Starlette decodes %2F before routing, so it
# is a separator naming another path (e.g. items// → a slash redirect to the list), not an odd byte.
odd_bytes = st.binary(min_size=1, max_size=6).filter(lambda b: b"/" not in b)


@FAST
@given(segment=st.one_of(hostile_text, odd_bytes.map(
    lambda b: "".join(f"%{x:02X}" for x in b))))  # fmt: skip
def test_path_segments_and_asset_paths_refuse_odd_bytes(hostile, segment: str) -> None:
    client, key, _ = hostile
    encoded = segment if segment.startswith("%") else quote(segment, safe="")
    for path in (f"/collections/facilities/items/{encoded}", f"/collections/{encoded}/items",
                 f"/maps/assets/leaflet/dist/{encoded}.js", f"/maps/assets/{encoded}"):  # fmt: skip
        response = client.get(path, headers={"X-API-Key": key})
        _refused_cleanly(response)
        assert response.status_code in (400, 404)


def _body(field: str, raw_value: str) -> bytes:
    """A distribution feature with one property given as raw JSON text (NaN, 1e999, {...})."""
    properties = {"external_id": "d1", "source": "test", "distributed_on": "2024-05-01",
                  "item_category": "food", field: "PLACEHOLDER"}  # fmt: skip
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [47.0, 40.0]},
               "properties": properties}  # fmt: skip
    return json.dumps(feature).replace('"PLACEHOLDER"', raw_value).encode()


RAW_VALUES = st.one_of(
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            "1e999",
            '"inf"',
            '"nan"',
            '{"a": 1}',
            "[1, 2]",
            '{"$ne": null}',
        ]
    ),
    huge_int,
    nul_text.map(json.dumps),
    calendar_end.map(json.dumps),
)


@FAST
@given(
    field=st.sampled_from(["quantity", "households", "external_id", "unit", "distributed_on"]),
    raw=RAW_VALUES,
)
def test_json_bodies_refuse_hostile_values_naming_the_field(hostile, field: str, raw: str) -> None:
    client, key, engine = hostile
    response = client.post("/collections/distributions/items", content=_body(field, raw),
                           headers={"X-API-Key": key, "Content-Type": "application/geo+json"})  # fmt: skip
    _refused_cleanly(response)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT quantity, external_id FROM distributions")).all()
    for quantity, external_id in stored:
        assert quantity is None or (quantity == quantity and abs(quantity) != float("inf"))
        assert not external_id.startswith(("{", "["))
    # NaN, Infinity and 1e999 are not JSON at all (422 for the body); "inf" and "nan" are JSON
    # strings that a number field would read as non-finite numbers.
    if raw in ("NaN", "Infinity", "-Infinity", "1e999"):
        assert response.status_code == 422 and "not JSON" in response.text
    if field == "quantity" and raw in ('"inf"', '"nan"'):
        assert response.status_code in (400, 422), response.text
        assert "quantity" in response.text
    if field == "external_id" and raw.startswith(("{", "[")):
        assert response.status_code == 422 and "external_id" in response.text
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM distributions")


@FAST
@given(column=st.sampled_from(["name", "capacity", "rehabilitated_on", "external_id"]),
       value=hostile_text, crs=st.one_of(st.none(), st.sampled_from(
           ["EPSG:999999", "+proj=foo", "urn:nonsense", "EPSG:", "{}", "EPSG:4326 extra"])))  # fmt: skip
def test_csv_uploads_refuse_hostile_cells_and_crs_strings(hostile, column, value, crs) -> None:
    client, key, engine = hostile
    cells = {"external_id": "c1", "longitude": "47.0", "latitude": "40.0",
             "facility_type": "school", "name": "School", column: value}  # fmt: skip
    text = ",".join(cells) + "\n" + ",".join(json.dumps(v) for v in cells.values()) + "\n"
    query = "?dry_run=true" + (f"&crs={quote(crs)}" if crs else "")
    response = client.post(f"/collections/facilities/imports{query}",
                           files={"file": ("f.csv", text.encode())},
                           headers={"X-API-Key": key})  # fmt: skip
    _refused_cleanly(response)
    if crs is not None and crs != "EPSG:4326 extra" and response.status_code >= 400:
        assert "crs" in response.text
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM facilities")).scalar_one() == 0
