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
