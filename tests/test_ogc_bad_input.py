"""Every bad /items input gets a 4xx JSON error naming what was wrong; nothing ever answers 5xx."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .ogc_support import demo_client_fixture, demo_fixture  # noqa: F401

ITEMS = "/collections/outreach_sessions/items"


@pytest.mark.parametrize(
    ("query", "status", "names"),
    [
        ("bbox=1,2,3", 400, "bbox"),
        ("bbox=1,2,3,4,5", 400, "bbox"),
        ("bbox=47,40,46,41", 400, "longitude"),
        ("bbox=46,41,47,40", 400, "latitude"),
        ("bbox=46,40,47,91", 400, "latitude"),
        ("bbox=-181,40,47,41", 400, "longitude"),
        ("bbox=a,b,c,d", 400, "bbox"),
        ("bbox=nan,40,47,41", 400, "bbox"),
        ("bbox=1e309,40,47,41", 400, "bbox"),
        ("bbox=", 400, "bbox"),
        ("bbox-crs=EPSG:2154&bbox=1,2,3,4", 400, "bbox-crs"),
        ("crs=EPSG:9999", 400, "crs"),
        ("filter=population >", 400, "filter"),
        ("filter=nosuchfield = 1", 400, "nosuchfield"),
        ("filter-lang=sql&filter=1=1", 400, "filter-lang"),
        ("properties=nosuchfield", 400, "properties"),
        ("limit=lots", 400, "limit"),
        ("datetime=yesterday", 400, "datetime"),
        ("datetime=2024-13-45", 400, "datetime"),
        ("datetime=2024-05-01/2024-01-01", 400, "datetime"),
        ("datetime=2024-01-01/2024-02-01/2024-03-01", 400, "datetime"),
        ("limit=0", 400, "limit"),
        ("limit=-5", 400, "limit"),
        ("limit=10001", 400, "limit"),
        ("limit=1e3", 400, "limit"),
        ("limit=99999999999999999999999", 400, "limit"),
        ("offset=-1", 400, "offset"),
        ("offset=5&cursor=abc", 400, "cursor"),
        ("f=xml", 400, "f"),
        ("f=", 400, "f"),
        ("cursor=not-a-cursor", 400, "cursor"),
        (
            "cursor=" + base64.urlsafe_b64encode(b'{"s":"+id","b":false,"k":["x"]}').decode(),
            400,
            "cursor",
        ),
        (
            "cursor=" + base64.urlsafe_b64encode(b'{"s":"-held_on","b":false,"k":[1]}').decode(),
            400,
            "cursor",
        ),
        ("sortby=notes", 400, "sortby"),
        ("sortby=+held_on,-id", 400, "sortby"),
        ("no_such_field=1", 400, "no_such_field"),
        ("notes=secret", 400, "notes"),
        ("girls=1", 400, "girls"),
        ("modality=helicopter", 400, "modality"),
        ("held_on=2024-02-30", 400, "held_on"),
        ("updated_since=last week", 400, "updated_since"),
        ("include_deleted=maybe", 400, "include_deleted"),
        ("count=perhaps", 400, "count"),
    ],
)
def test_bad_items_input_is_a_clear_4xx(demo_client, query: str, status: int, names: str) -> None:
    response = demo_client.get(f"{ITEMS}?{query}")
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"code", "description"}
    assert names in body["description"], body


def test_datetime_on_a_layer_without_a_temporal_field_is_400(demo_client) -> None:
    response = demo_client.get("/collections/villages/items?datetime=2024-01-01")
    assert response.status_code == 400 and "temporal" in response.json()["description"]


NASTY = st.one_of(
    st.sampled_from(["", " ", "NaN", "nan", "inf", "-inf", "1e309", "-1e309", "0", "-1", "1" * 40,
                     "'", "\"", "';--", "%", "\\", "..", "/", "../..", "null", "[]", "{}", "1,2,3",
                     "1,2,3,4,5", "47,40,46,41", "+", "-", "+-id", "ÿ", "😀", "\u202e", "a" * 5000,
                     "2024-02-30", "2024-01-01T25:00:00Z", "2024-01-01/2023-01-01", "10000", "10001"]),
    st.text(max_size=30),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)  # fmt: skip
PARAMS = st.sampled_from(["bbox", "datetime", "limit", "offset", "cursor", "sortby", "updated_since",
                          "include_deleted", "count", "hxl", "f", "held_on", "modality", "place_name",
                          "notes", "girls", "bbox-crs", "crs", "api_key", "x"])  # fmt: skip


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.lists(st.tuples(PARAMS, NASTY), min_size=1, max_size=4))
def test_no_items_input_causes_a_server_error(demo_client, query: list[tuple[str, str]]) -> None:
    response = demo_client.get(ITEMS, params=query)
    assert response.status_code < 500, (query, response.text)
    if response.status_code >= 400:
        assert set(response.json()) >= {"code", "description"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(feature_id=st.one_of(st.text(max_size=30), st.integers().map(str)))
def test_no_item_id_causes_a_server_error(demo_client, feature_id: str) -> None:
    response = demo_client.get(f"{ITEMS}/{quote(feature_id, safe='')}")
    assert response.status_code < 500
