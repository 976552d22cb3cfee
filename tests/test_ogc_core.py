"""Landing page, conformance, collections, queryables, the OpenAPI 3.0 document and HTML pages."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from gis.notices import NOT_SAFE
from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_client_fixture, demo_fixture, headers, sql_count  # noqa: F401

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


def test_landing_page_links_to_api_conformance_and_data(demo_client) -> None:
    body = demo_client.get("/").json()
    rels = {link["rel"]: link for link in body["links"]}
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert rel in rels, rel
    assert rels["service-desc"]["href"].endswith("/api")
    assert rels["service-doc"]["href"].endswith("/api.html")


# The standards whose conformance classes SafeGround declares (each class's own tests are beside
# its feature): Features Part 1 and OGC API - Tiles.
DECLARED_STANDARDS = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/",
)


def test_conformance_lists_only_classes_of_the_declared_standards(demo_client) -> None:
    classes = demo_client.get("/conformance").json()["conformsTo"]
    assert CORE in classes
    assert len(classes) == len(set(classes))
    assert all(c.startswith(DECLARED_STANDARDS) for c in classes), classes


def test_api_document_is_openapi_3_0_without_3_1_spellings(demo_client) -> None:
    doc = demo_client.get("/api").json()
    assert doc["openapi"].startswith("3.0")
    text = str(doc)
    assert "'type': 'null'" not in text and "'const':" not in text
    assert "/collections/{layer}/items" in doc["paths"]
    assert demo_client.get("/api.html").status_code == 200


def test_collections_list_only_readable_layers_with_extents(demo: Demo, demo_client) -> None:
    anonymous = {c["id"] for c in demo_client.get("/collections").json()["collections"]}
    assert anonymous == {s.name for s in REGISTRY.values() if s.readable_by(Role.public)}
    partner = demo_client.get("/collections", headers=headers(demo, Role.partner)).json()[
        "collections"
    ]
    assert {c["id"] for c in partner} == set(REGISTRY)
    hazards = next(c for c in partner if c["id"] == "hazard_areas")
    minx, miny, maxx, maxy = hazards["extent"]["spatial"]["bbox"][0]
    assert 44 < minx < maxx < 51 and 38 < miny < maxy < 42
    first, last = hazards["extent"]["temporal"]["interval"][0]
    assert first <= last
    assert hazards["itemType"] == "feature" and hazards["synthetic"] is True
    assert hazards["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    villages = next(c for c in partner if c["id"] == "villages")
    assert villages["synthetic"] is False
    assert "Who's On First" in villages["attribution"] and villages["license"]
    rels = {link["rel"] for link in hazards["links"]}
    assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels


def test_collection_temporal_extent_matches_the_data(demo: Demo, demo_client) -> None:
    body = demo_client.get("/collections/outreach_sessions").json()
    first, last = body["extent"]["temporal"]["interval"][0]
    low = sql_count(
        demo,
        "SELECT to_char(min(held_on), 'YYYYMMDD')::int FROM outreach_sessions WHERE deleted_at IS NULL",
    )
    assert first.startswith(dt.datetime.strptime(str(low), "%Y%m%d").date().isoformat())
    assert last.endswith("Z")


def test_queryables_are_json_schema_of_visible_queryable_fields(demo: Demo, demo_client) -> None:
    response = demo_client.get("/collections/outreach_sessions/queryables")
    assert response.headers["content-type"] == "application/schema+json"
    schema = response.json()
    assert schema["type"] == "object" and schema["$id"].endswith(
        "/collections/outreach_sessions/queryables"
    )
    assert set(schema["properties"]) == set(REGISTRY["outreach_sessions"].queryable_fields)
    assert schema["properties"]["held_on"] == {
        "title": "held on",
        "type": "string",
        "format": "date",
    }
    assert "school" in schema["properties"]["modality"]["enum"]


def test_unknown_layer_is_404_with_a_json_error(demo_client) -> None:
    for path in (
        "/collections/nope",
        "/collections/nope/items",
        "/collections/nope/queryables",
        "/collections/nope/items/1",
    ):
        response = demo_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"code": "NotFound", "description": "no collection 'nope'"}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/conformance",
        "/collections",
        "/collections/villages",
        "/collections/villages/queryables",
    ],
)
def test_every_document_has_an_html_page(demo_client, path) -> None:
    response = demo_client.get(path, params={"f": "html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<script" not in response.text


def test_hazard_page_warns_that_no_hazard_shown_is_not_safe_and_maps_inline(
    demo: Demo, demo_client
) -> None:
    page = demo_client.get(
        "/collections/hazard_areas/items?f=html&limit=20", headers=headers(demo, Role.partner)
    ).text
    assert html.escape(NOT_SAFE) in page  # the one notice (gis/notices.py)
    assert "synthetic demo data" in page
    assert "<svg" in page and re.search(r'<path d="M [-0-9. LZM]+"', page)
    assert "<script" not in page and "http://" not in page.split('<ul class="links">')[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    villages = demo_client.get("/collections/villages/items?f=html&limit=20").text
    assert (
        "No hazard shown" not in villages and "synthetic" not in villages and "<circle" in villages
    )


def test_html_escapes_names_from_imported_files(demo: Demo, demo_client) -> None:
    feature_id = sql_count(demo, "SELECT min(id) FROM villages")
    page = demo_client.get(f"/collections/villages/items/{feature_id}?f=html").text
    assert "<h1>" in page
    assert "<script" not in page
