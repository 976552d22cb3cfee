"""A hazard area too small for the tiles' grid, decoded with mapbox-vector-tile: kept as a point
inside the tile, whether it lies wholly in the tile or across its edge (then in both tiles, each
point in its own tile) — gis/tiles.py takes a cheaper path for the first and must not lose it."""

from __future__ import annotations

from collections.abc import Iterator

import mapbox_vector_tile
import pytest
import sqlalchemy as sa

from gis.spec import Role
from gis.tiles import EXTENT
from tests import test_tiles as base
from tests.test_tiles import tile_of, url

# the same module-scoped fixtures: a copy of the national demo, keys per role, a client
keys, client, engine = base.keys, base.client, base.engine

# lon 45 is a column edge from z 3 on (45 = -180 + 20 × 360/32); the squares are ~35 m across,
# under one grid unit at every zoom tested (z 7: 76 m)
EDGE, INSIDE = (45.0, 40.5), (47.3, 40.3)
HALF = 0.0002  # degrees


@pytest.fixture
def specks(engine: sa.Engine) -> Iterator[dict[str, int]]:
    """Two tiny confirmed hazard areas, one across a tile edge and one inside a tile; removed
    afterwards (the other tests of this copy compare tiles with SQL, which sees them anyway)."""
    ids = {}
    with engine.begin() as conn:
        for name, (x, y) in (("edge", EDGE), ("inside", INSIDE)):
            ids[name] = conn.scalar(
                sa.text(
                    "INSERT INTO hazard_areas (external_id, source, geom, hazard_type, status, "
                    "recorded_on) VALUES (:ext, 'test (synthetic)', "
                    "ST_Multi(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)), 'AP_mine', "
                    "'confirmed', '2024-01-01') RETURNING id"
                ),
                {
                    "ext": f"speck-{name}",
                    "x0": x - HALF,
                    "y0": y - HALF,
                    "x1": x + HALF,
                    "y1": y + HALF,
                },
            )
    yield ids
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM hazard_areas WHERE id = ANY(:ids)"), {"ids": list(ids.values())}
        )


def layer_of(client, keys, z: int, row: int, col: int) -> dict:
    r = client.get(url("hazard_areas", z, row, col), headers={"X-API-Key": keys[Role.staff]})
    assert r.status_code == 200, r.text
    return mapbox_vector_tile.decode(r.content)["hazard_areas"]


@pytest.mark.parametrize("z", [5, 6, 7])
def test_an_area_too_small_for_the_grid_is_a_point_in_every_tile_it_touches(
    client, keys, specks, z
) -> None:
    _, row, col = tile_of(*EDGE, z)
    assert tile_of(EDGE[0] - HALF, EDGE[1], z)[2] == col - 1  # the square does cross the edge
    tiles = {
        "inside": [tile_of(*INSIDE, z)],
        "edge": [(z, row, col - 1), (z, row, col)],
    }
    for name, found_in in tiles.items():
        for tile in found_in:
            layer = layer_of(client, keys, *tile)
            (feature,) = [f for f in layer["features"] if f["id"] == specks[name]]
            assert feature["geometry"]["type"] == "Point", (name, tile, feature["geometry"])
            x, y = feature["geometry"]["coordinates"]
            assert layer["extent"] == EXTENT
            assert 0 <= x <= EXTENT and 0 <= y <= EXTENT, (name, tile, x, y)
            assert feature["properties"] == {"status": "confirmed"}
