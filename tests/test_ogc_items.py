"""/items against the national demo: every filter against an independent SQL count, paging that
returns each feature exactly once, caching headers, and the GiST index under a bbox query."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gis.items import page_statement
from gis.params import parse_bbox
from gis.query import build_items_query, parse_page
from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_client_fixture, demo_fixture, headers, sql_count  # noqa: F401

ITEMS = "/collections/{}/items"


def fetch_all(
    client, url: str, hdrs: dict[str, str] | None = None, max_pages: int = 500
) -> list[dict]:
    """Follow next links to the end; the features of every page, in order."""
    features: list[dict] = []
    for _ in range(max_pages):
        response = client.get(url, headers=hdrs or {})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["numberReturned"] == len(body["features"])
        features += body["features"]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return features
        url = nxt[0]
    raise AssertionError("too many pages")


def link_to(body: dict, rel: str) -> str:
    return next(link["href"] for link in body["links"] if link["rel"] == rel)


def ids(features: list[dict]) -> list[int]:
    return [f["id"] for f in features]


@pytest.mark.parametrize(
    ("layer", "params", "where"),
    [
        (
            "villages",
            "bbox=46.8,39.8,47.3,40.3",
            "ST_Intersects(geom, ST_MakeEnvelope(46.8,39.8,47.3,40.3,4326))",
        ),
        ("outreach_sessions", "datetime=2022-06-21", "held_on = '2022-06-21'"),
        (
            "outreach_sessions",
            "datetime=2023-01-01/2023-06-30",
            "held_on BETWEEN '2023-01-01' AND '2023-06-30'",
        ),
        ("outreach_sessions", "datetime=../2022-03-01", "held_on <= '2022-03-01'"),
        ("outreach_sessions", "datetime=2025-06-01T10:00:00Z/..", "held_on >= '2025-06-01'"),
        ("outreach_sessions", "modality=school", "modality = 'school'"),
        ("outreach_sessions", "modality=school&modality=media", "modality IN ('school', 'media')"),
        ("facilities", "facility_type=kindergarten", "facility_type = 'kindergarten'"),
        ("villages", "district_name=Lachin", "district_name = 'Lachin'"),
        (
            "outreach_sessions",
            "bbox=46.5,39.5,47.5,40.5&audience=children&datetime=2024-01-01/2024-12-31",
            "geom && ST_MakeEnvelope(46.5,39.5,47.5,40.5,4326) AND audience = 'children' "
            "AND held_on BETWEEN '2024-01-01' AND '2024-12-31'",
        ),
    ],
)
def test_each_filter_matches_an_independent_sql_count(
    demo: Demo, demo_client, layer, params, where
) -> None:
    expected = sql_count(demo, f"SELECT count(*) FROM {layer} WHERE deleted_at IS NULL AND {where}")
    assert expected > 0, "the filter should select something in the demo"
    features = fetch_all(demo_client, f"{ITEMS.format(layer)}?{params}&limit=1000")
    assert len(features) == expected
    assert len(set(ids(features))) == expected


def test_hazard_filters_for_a_partner(demo: Demo, demo_client) -> None:
    expected = sql_count(
        demo, "SELECT count(*) FROM hazard_areas WHERE deleted_at IS NULL AND status = 'confirmed' "
        "AND hazard_type = 'AP_mine'",
    )  # fmt: skip
    url = f"{ITEMS.format('hazard_areas')}?status=confirmed&hazard_type=AP_mine&limit=10000&count=true"
    body = demo_client.get(url, headers=headers(demo, Role.partner)).json()
    assert body["numberReturned"] == body["numberMatched"] == expected
    assert {f["properties"]["status"] for f in body["features"]} == {"confirmed"}


@pytest.mark.parametrize("sortby", [None, "+held_on", "-held_on", "-place_name", "audience"])
def test_paging_through_a_layer_returns_every_feature_exactly_once(
    demo: Demo, demo_client, sortby
) -> None:
    total = sql_count(demo, "SELECT count(*) FROM outreach_sessions WHERE deleted_at IS NULL")
    url = f"{ITEMS.format('outreach_sessions')}?limit=700" + (f"&sortby={sortby}" if sortby else "")
    features = fetch_all(demo_client, url)
    assert len(features) == total
    assert len(set(ids(features))) == total
    if sortby:
        field = sortby.lstrip("+-")
        values = [f["properties"][field] for f in features]
        present = [v for v in values if v is not None]
        assert present == sorted(present, reverse=sortby.startswith("-"))


def test_paging_by_nullable_sort_field_keeps_null_rows(demo: Demo, demo_client) -> None:
    total = sql_count(demo, "SELECT count(*) FROM facilities WHERE deleted_at IS NULL")
    for sortby in ("rehabilitated_on", "-rehabilitated_on"):
        features = fetch_all(demo_client, f"{ITEMS.format('facilities')}?limit=7&sortby={sortby}")
        assert len(features) == total and len(set(ids(features))) == total


def test_offset_paging_and_prev_links_walk_back(demo: Demo, demo_client) -> None:
    url = f"{ITEMS.format('villages')}?limit=50"
    first = demo_client.get(url).json()
    second = demo_client.get(link_to(first, "next")).json()
    third = demo_client.get(link_to(second, "next")).json()
    back = demo_client.get(link_to(third, "prev")).json()
    assert ids(back["features"]) == ids(second["features"])
    again = demo_client.get(link_to(back, "prev")).json()
    assert ids(again["features"]) == ids(first["features"])
    assert not any(link["rel"] == "prev" for link in first["links"])
    by_offset = demo_client.get(f"{url}&offset=50").json()
    assert ids(by_offset["features"]) == ids(second["features"])
    prev = link_to(by_offset, "prev")
    assert ids(demo_client.get(prev).json()["features"]) == ids(first["features"])


def test_one_page_holding_everything_says_number_matched_exactly(demo: Demo, demo_client) -> None:
    total = sql_count(demo, "SELECT count(*) FROM districts WHERE deleted_at IS NULL")
    body = demo_client.get(f"{ITEMS.format('districts')}?limit={total}").json()
    assert body["numberReturned"] == total
    assert body["numberMatched"] == total  # free: this first page proves there is no more
    assert not any(link["rel"] == "next" for link in body["links"])
    assert body["timeStamp"].endswith("Z")


def test_a_partial_page_counts_only_when_asked(demo: Demo, demo_client) -> None:
    total = sql_count(demo, "SELECT count(*) FROM districts WHERE deleted_at IS NULL")
    body = demo_client.get(f"{ITEMS.format('districts')}?limit=5").json()
    assert "numberMatched" not in body
    counted = demo_client.get(f"{ITEMS.format('districts')}?limit=5&count=true").json()
    assert counted["numberMatched"] == total


def test_single_item_and_missing_item(demo: Demo, demo_client) -> None:
    feature_id = sql_count(demo, "SELECT min(id) FROM villages")
    response = demo_client.get(f"{ITEMS.format('villages')}/{feature_id}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    assert body["id"] == feature_id and body["type"] == "Feature"
    assert any(link["rel"] == "collection" for link in body["links"])
    for missing in ("999999999", "abc", "-1", "1e3"):
        r = demo_client.get(f"{ITEMS.format('villages')}/{missing}")
        assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_etag_gives_304_and_cache_control_is_private_with_a_key(demo: Demo, demo_client) -> None:
    url = f"{ITEMS.format('villages')}?limit=5"
    first = demo_client.get(url)
    assert first.headers["cache-control"].startswith("public")
    again = demo_client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    keyed = demo_client.get(url, headers=headers(demo, Role.partner))
    assert keyed.headers["cache-control"].startswith("private")


def test_accept_header_negotiates_html_and_f_overrides_it(demo_client) -> None:
    url = f"{ITEMS.format('villages')}?limit=3"
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert (
        demo_client.get(url, headers={"Accept": browser})
        .headers["content-type"]
        .startswith("text/html")
    )
    assert (
        demo_client.get(url, headers={"Accept": "application/geo+json"}).headers["content-type"]
        == "application/geo+json"
    )
    assert (
        demo_client.get(f"{url}&f=json", headers={"Accept": browser}).headers["content-type"]
        == "application/geo+json"
    )


def test_gzip_when_the_client_asks(demo_client) -> None:
    response = demo_client.get(
        f"{ITEMS.format('villages')}?limit=500", headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers.get("content-encoding") == "gzip"
    assert response.json()["numberReturned"] == 500


def test_bbox_query_uses_the_gist_index(demo: Demo) -> None:
    spec = REGISTRY["outreach_sessions"]
    q = build_items_query(
        spec,
        Role.public,
        {},
        parse_page(100, None, None, 100, 10_000),
        bbox=parse_bbox("46.9,39.9,47.0,40.0"),
    )
    statement, params = page_statement(q)
    with demo.engine.connect() as conn:
        pg = conn.connection.driver_connection
        with pg.cursor() as cur:
            cur.execute("EXPLAIN " + statement.sql, params)
            plan = "\n".join(r[0] for r in cur.fetchall())
        conn.rollback()
    assert "outreach_sessions_geom_gist" in plan, plan


def test_page_sql_has_no_count_and_binds_every_value() -> None:
    spec = REGISTRY["villages"]
    q = build_items_query(spec, Role.public, [("name", "x'); DROP TABLE villages; --")],
                          parse_page(10, None, None, 100, 10_000), bbox=parse_bbox("46,39,47,40"))  # fmt: skip
    statement, params = page_statement(q)
    assert "DROP" not in statement.sql and "46" not in statement.sql
    assert "count(*) OVER" not in statement.sql
    assert params["filter_name"] == ["x'); DROP TABLE villages; --"]


def test_filter_values_with_quotes_and_unicode_are_plain_values(demo: Demo, demo_client) -> None:
    name = sa.text("SELECT name FROM villages WHERE name ~ '[^[:ascii:]]' LIMIT 1")
    with demo.engine.connect() as conn:
        unicode_name = conn.execute(name).scalar_one()
    body = demo_client.get(ITEMS.format("villages"), params={"name": unicode_name}).json()
    assert body["numberReturned"] >= 1
    assert all(f["properties"]["name"] == unicode_name for f in body["features"])
    assert (
        demo_client.get(ITEMS.format("villages"), params={"name": "O'Brien\"; --"}).json()[
            "numberReturned"
        ]
        == 0
    )
