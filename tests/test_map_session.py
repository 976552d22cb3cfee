"""The served map's session cookie (api/map_session.py): a keyed caller who opens a served map gets
a short-lived HttpOnly, SameSite=Strict cookie scoped to /collections that reads the protected
tiles and items with that key's role — never writes, never once expired, altered or revoked —
and that is neither the key nor anywhere in the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.map_session import COOKIE
from gis import map_sessions
from gis.access import create_key, revoke_key
from gis.settings import ApiSettings
from gis.spec import Role
from layers import REGISTRY
from tests.conftest import settings_for
from tests.test_tiles import tile_of


@dataclass(frozen=True)
class Keys:
    partner: str
    editor: str
    doomed: str  # revoked by a test
    doomed_id: int


@pytest.fixture(scope="module")
def engine(demo_copy: sa.URL) -> Iterator[sa.Engine]:
    e = sa.create_engine(demo_copy)
    yield e
    e.dispose()


@pytest.fixture(scope="module")
def hazard_tile(engine: sa.Engine) -> str:
    """A z 10 tile holding a live hazard area (one a partner may read, anonymous may not)."""
    with engine.connect() as conn:
        lon, lat = conn.execute(
            sa.text(
                "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM "
                "hazard_areas WHERE deleted_at IS NULL ORDER BY id LIMIT 1) s"
            )
        ).one()
    z, row, col = tile_of(lon, lat, 10)
    return f"/collections/hazard_areas/tiles/WebMercatorQuad/{z}/{row}/{col}"


@pytest.fixture(scope="module")
def keys(engine: sa.Engine) -> Keys:
    with engine.begin() as conn:
        partner = create_key(conn, "map session partner", Role.partner)
        editor = create_key(conn, "map session editor", Role.editor)
        doomed = create_key(conn, "map session doomed", Role.partner)
        doomed_id = conn.scalar(sa.text("SELECT max(id) FROM api_keys"))
    return Keys(partner, editor, doomed, int(doomed_id))


@pytest.fixture(scope="module")
def app(demo_copy: sa.URL, keys):
    # no key cache: a revocation shows at once
    settings = settings_for(demo_copy).model_copy(
        update={"api": ApiSettings(key_cache_seconds=0, map_session_seconds=600)}
    )
    return create_app(settings)


def opened_map(app, key: str) -> tuple[TestClient, str, str]:
    """A browser-like client that opened the served overview with `key`: (client, cookie, html)."""
    client = TestClient(app)
    page = client.get("/maps/overview", headers={"X-API-Key": key})
    assert page.status_code == 200
    return client, page.headers["set-cookie"], page.text


def tile_ids(body: bytes) -> set[int]:
    layers = mapbox_vector_tile.decode(body)
    return {f["id"] for f in layers.get("hazard_areas", {"features": []})["features"]}


def test_a_served_map_gives_a_scoped_httponly_cookie_that_is_not_the_key(app, keys) -> None:
    client, header, html = opened_map(app, keys.partner)
    value = client.cookies[COOKIE]
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "path=/collections" in header.lower() and "samesite=strict" in header.lower()
    assert "max-age=600" in header.lower()
    assert keys.partner not in value and keys.partner not in html and value not in html
    offline = TestClient(app).get(
        "/maps/overview?offline=true", headers={"X-API-Key": keys.partner}
    )
    assert "set-cookie" not in offline.headers  # a file carries its features
    assert "set-cookie" not in TestClient(app).get("/maps/overview").headers  # anonymous


def test_the_cookie_reads_protected_tiles_and_items_with_the_keys_role(
    app, keys, engine, hazard_tile
) -> None:
    client, _, _ = opened_map(app, keys.partner)
    with_cookie = client.get(hazard_tile)
    assert with_cookie.status_code == 200
    assert "private" in with_cookie.headers["cache-control"]
    assert "Cookie" in with_cookie.headers["vary"]
    keyed = TestClient(app).get(hazard_tile, headers={"X-API-Key": keys.partner})
    assert tile_ids(with_cookie.content) == tile_ids(keyed.content) != set()
    items = client.get("/collections/hazard_areas/items", params={"limit": 1})
    assert items.status_code == 200 and len(items.json()["features"]) == 1
    anonymous = TestClient(app)
    assert anonymous.get(hazard_tile).status_code == 404
    assert REGISTRY["hazard_areas"].readable_by(Role.partner)


def test_the_cookie_never_writes(app, keys, engine, hazard_tile) -> None:
    client, _, _ = opened_map(app, keys.editor)
    t = REGISTRY["facilities"].table
    with engine.connect() as conn:
        before = conn.scalar(sa.select(sa.func.count()).select_from(t))
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [46.9, 39.9]},
        "properties": {"name": "csrf", "facility_type": "school", "source": "synthetic test"},
    }
    answer = client.post("/collections/facilities/items", json=feature)
    assert answer.status_code == 401
    deleted = client.delete("/collections/facilities/items/1")
    assert deleted.status_code == 401
    with engine.connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(t)) == before


def test_an_expired_or_altered_cookie_is_refused(app, keys, engine, hazard_tile) -> None:
    with engine.connect() as conn:
        key = map_sessions.key_for_api_key(conn, keys.partner)
    assert key is not None
    stale = map_sessions.issue(key, time.time() - 3_600, 600)
    client = TestClient(app)
    client.cookies.set(COOKIE, stale, path="/collections")
    refused = client.get(hazard_tile)
    assert refused.status_code == 401 and "expired" in refused.json()["description"]
    fresh = map_sessions.issue(key, time.time(), 600)
    key_id, _, expires_at, signature = fresh.split(".")
    for forged in (
        f"{key_id}.staff.{expires_at}.{signature}",  # a higher role
        f"{key_id}.partner.{int(expires_at) + 86_400}.{signature}",  # a longer life
        f"{key_id}.partner.{expires_at}.{signature[:-2]}AA",
        "not a session",
    ):
        client.cookies.set(COOKIE, forged, path="/collections")
        assert client.get(hazard_tile).status_code == 401, forged


def test_a_revoked_keys_cookie_stops_working(app, keys, engine, hazard_tile) -> None:
    client, _, _ = opened_map(app, keys.doomed)
    assert client.get(hazard_tile).status_code == 200
    with engine.begin() as conn:
        revoke_key(conn, keys.doomed_id)
    refused = client.get(hazard_tile)
    assert refused.status_code == 401 and "revoked" in refused.json()["description"]
