"""Kept tiles (gis/tile_cache.py) over the national demo, read through the API and decoded with a
real MVT decoder: a repeated tile is not built again, any committed write to the layer (plain SQL
included) makes the next tile fresh, a rolled-back one keeps it, and a tile kept for staff never
reaches a partner."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gis.spec import Role
from gis.tile_cache import TileCache
from gis.tiles import TileId, counted_tile, default_fields, tile_statement
from layers import REGISTRY
from tests.test_tiles import client, engine, keys, tile_of

__all__ = ["client", "engine", "keys"]  # the tile tests' module-scoped fixtures, shared


@pytest.fixture
def hazard(engine: sa.Engine) -> tuple[int, tuple[int, int, int]]:
    """A live hazard area and the z 12 tile holding a point of it."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
                "FROM hazard_areas WHERE deleted_at IS NULL ORDER BY id LIMIT 1"
            )
        ).one()
    return int(row[0]), tile_of(row[1], row[2], 12)


def notes_in(client: TestClient, key: str, tile: tuple[int, int, int], hazard_id: int) -> object:
    z, row, col = tile
    r = client.get(
        f"/collections/hazard_areas/tiles/WebMercatorQuad/{z}/{row}/{col}",
        headers={"X-API-Key": key, "Accept-Encoding": "identity"},
    )
    assert r.status_code == 200, r.text
    features = mapbox_vector_tile.decode(r.content)["hazard_areas"]["features"]
    (found,) = [f for f in features if f["id"] == hazard_id]
    return found["properties"].get("notes", "<absent>")


def test_a_repeated_tile_is_kept_and_a_committed_plain_write_makes_it_fresh(
    client, keys, engine, hazard
) -> None:
    hazard_id, tile = hazard
    kept = client.app.state.tiles
    staff = keys[Role.staff]
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE hazard_areas SET notes = 'kept one' WHERE id = :id"), {"id": hazard_id}
        )
    assert notes_in(client, staff, tile, hazard_id) == "kept one"
    misses, hits = kept.misses, kept.hits
    assert notes_in(client, staff, tile, hazard_id) == "kept one"
    assert (kept.misses, kept.hits) == (misses, hits + 1)  # not built again

    # Behind the app's back, committed: the next tile is built anew and shows it.
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE hazard_areas SET notes = 'written since' WHERE id = :id"),
            {"id": hazard_id},
        )
    assert notes_in(client, staff, tile, hazard_id) == "written since"
    assert kept.misses == misses + 1

    # A write that rolls back moves no counter: the kept tile still answers.
    with engine.connect() as conn:
        conn.execute(
            sa.text("UPDATE hazard_areas SET notes = 'rolled back' WHERE id = :id"),
            {"id": hazard_id},
        )
        conn.rollback()
    assert notes_in(client, staff, tile, hazard_id) == "written since"
    assert kept.misses == misses + 1


def test_a_tile_kept_for_staff_never_reaches_a_partner_or_the_public(
    client, keys, engine, hazard
) -> None:
    hazard_id, tile = hazard
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE hazard_areas SET notes = 'staff only' WHERE id = :id"),
            {"id": hazard_id},
        )
    assert notes_in(client, keys[Role.staff], tile, hazard_id) == "staff only"
    assert notes_in(client, keys[Role.staff], tile, hazard_id) == "staff only"  # kept now
    assert notes_in(client, keys[Role.partner], tile, hazard_id) == "<absent>"
    z, row, col = tile
    public = client.get(f"/collections/hazard_areas/tiles/WebMercatorQuad/{z}/{row}/{col}")
    assert public.status_code == 404  # the public may not read hazard areas at all


def test_a_light_and_a_full_tile_are_kept_apart(client, keys, engine, hazard) -> None:
    hazard_id, (_, row, col) = hazard
    path = f"/collections/hazard_areas/tiles/WebMercatorQuad/12/{row}/{col}"
    headers = {"X-API-Key": keys[Role.staff], "Accept-Encoding": "identity"}
    light = client.get(path, params={"properties": "status"}, headers=headers)
    full = client.get(path, headers=headers)
    light_again = client.get(path, params={"properties": "status"}, headers=headers)
    assert light.content == light_again.content != full.content

    def fields(body: bytes) -> set[str]:
        features = mapbox_vector_tile.decode(body)["hazard_areas"]["features"]
        return {k for f in features if f["id"] == hazard_id for k in f["properties"]}

    assert fields(light.content) == {"status"}
    assert "notes" in fields(full.content)


def test_one_statement_reads_the_counter_and_builds_only_when_it_moved(engine, hazard) -> None:
    # gis/tiles.py's counted_tile on the database itself: unbuilt (None) exactly when the counter
    # is the kept one, the same features as the plain tile statement otherwise.
    spec, tile = REGISTRY["hazard_areas"], TileId(*hazard[1])
    fields = default_fields(spec, Role.staff, tile.z)
    with engine.connect() as conn:
        version, body = counted_tile(conn, spec, Role.staff, tile, fields, None)
        stmt, values = tile_statement(spec, Role.staff, tile)
        plain = bytes(conn.execute(stmt, values).scalar_one())
        assert version == conn.scalar(
            sa.text("SELECT version FROM layer_versions WHERE layer = 'hazard_areas'")
        )
        assert counted_tile(conn, spec, Role.staff, tile, fields, version) == (version, None)
        again = counted_tile(conn, spec, Role.staff, tile, fields, version - 1)
    assert again[0] == version and again[1] is not None

    def ids(b: bytes | None) -> list[int]:
        assert b is not None
        return sorted(f["id"] for f in mapbox_vector_tile.decode(b)["hazard_areas"]["features"])

    assert hazard[0] in ids(body) and ids(body) == ids(again[1]) == ids(plain)


def test_the_latest_build_is_kept_and_an_older_one_never_replaces_it() -> None:
    # The cache's own bookkeeping, with the statement's answers given: (counter, bytes or None).
    kept, spec = TileCache(max_bytes=10), REGISTRY["hazard_areas"]
    asked: list[int | None] = []

    def answers(version: int, body: bytes | None):
        def fetch(held: int | None) -> tuple[int, bytes | None]:
            asked.append(held)
            return version, body

        return fetch

    first = kept.tile(spec, "k", answers(3, b"abc"))
    assert kept.tile(spec, "k", answers(3, None)) is first  # the counter stood: kept
    newer = kept.tile(spec, "k", answers(5, b"defg"))
    assert asked == [None, 3, 3] and newer.version == 5
    older = kept.tile(spec, "k", answers(4, b"xy"))  # a slower request's older snapshot
    assert older.body == b"xy" and kept.tile(spec, "k", answers(5, None)) is newer
    kept.tile(spec, "other", answers(5, b"0123456"))  # 4 + 7 bytes > 10: the oldest goes
    assert kept.tile(spec, "k", answers(5, b"rebuilt")).body == b"rebuilt"
    assert (kept.hits, kept.misses) == (2, 5)
