"""GDAL reads the vector tiles straight from the live server: its MVT driver (`ogrinfo` on
`MVT:/vsicurl/<tile URL>?f=mvt`, the key as a header) decodes a block of tiles, and each holds
exactly the live items in its bounds for that role (ids against SQL), with no field the role may
not read. A layer the caller may not read gives GDAL no feature.

GDAL 3.6's OGCAPI driver cannot be the client here: Debian 12's libgdal 3.6.2 builds no vector
layer from a tileset at all (README, "Vector tiles")."""

from __future__ import annotations

import re
import subprocess

import pytest

from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_fixture, live_server_fixture  # noqa: F401
from .test_tiles import tile_box, tile_of

FEATURE = re.compile(r"^OGRFeature\((\w+)\):\d+$")
FIELD = re.compile(r"^  (\w+) \((\w+)\) = ")
BLOCK = 2  # tiles a side around the anchor's tile
Z = 12  # a zoom where a tile carries every visible field
# Every client reads each layer as a role that may see its notes and one that may not.
ROLE_CASES = [
    ("hazard_areas", Role.partner),
    ("hazard_areas", Role.staff),
    ("outreach_sessions", Role.public),
    ("outreach_sessions", Role.staff),
]


def anchor(demo: Demo, layer: str) -> tuple[float, float]:
    """A live feature of the layer that has a note, so a staff tile has one to show."""
    with demo.engine.connect() as conn:
        x, y = conn.exec_driver_sql(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM {layer} "
            "WHERE deleted_at IS NULL AND notes IS NOT NULL ORDER BY id LIMIT 1) s"
        ).one()
    return float(x), float(y)


def sql_ids(demo: Demo, layer: str, z: int, row: int, col: int) -> set[int]:
    with demo.engine.connect() as conn:
        return set(
            conn.exec_driver_sql(
                f"SELECT id FROM {layer} WHERE deleted_at IS NULL "
                "AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                tile_box(z, row, col),
            ).scalars()
        )


def gdal_read(
    base: str, layer: str, z: int, row: int, col: int, key: str | None
) -> tuple[int, list[int], set[str], str]:
    """ogrinfo on one tile: its exit code, the features' ids (MVT ids), field names, stderr."""
    url = f"{base}/collections/{layer}/tiles/WebMercatorQuad/{z}/{row}/{col}?f=mvt"
    header = ["--config", "GDAL_HTTP_HEADERS", f"X-API-Key: {key}"] if key else []
    where = ["-oo", f"X={col}", "-oo", f"Y={row}", "-oo", f"Z={z}"]  # georeferences the tile
    done = subprocess.run(
        ["ogrinfo", "-ro", "-al", "-q", *header, *where, f"MVT:/vsicurl/{url}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    ids: list[int] = []
    fields: set[str] = set()
    for line in done.stdout.splitlines():
        if FEATURE.match(line):
            ids.append(-1)  # filled by the feature's mvt_id below
        elif found := FIELD.match(line):
            name = found.group(1)
            if name == "mvt_id":
                ids[-1] = int(line.rsplit("= ", 1)[1])
            else:
                fields.add(name)
    return done.returncode, ids, fields, done.stderr


@pytest.mark.parametrize(("layer", "role"), ROLE_CASES)
def test_gdal_reads_a_block_of_tiles_with_exactly_the_roles_items(
    demo: Demo, live_server: str, layer: str, role: Role
) -> None:
    spec = REGISTRY[layer]
    visible = set(spec.visible_fields(role))
    hidden = {c.name for c in spec.table.columns} - visible - {"id", "geom"}
    _, row0, col0 = tile_of(*anchor(demo, layer), Z)
    seen_fields: set[str] = set()
    features = 0
    for row in range(row0, row0 + BLOCK):
        for col in range(col0, col0 + BLOCK):
            expected = sql_ids(demo, layer, Z, row, col)
            code, ids, fields, err = gdal_read(live_server, layer, Z, row, col, demo.keys[role])
            if not expected:  # an empty tile is an empty body, which GDAL does not open
                assert ids == []
                continue
            assert code == 0, err
            assert len(ids) == len(set(ids)) and set(ids) == expected, (row, col)
            assert not fields & hidden and fields <= visible, fields & hidden
            seen_fields |= fields
            features += len(ids)
    assert features, "the anchor's own feature is in its tile"
    if role is Role.staff:
        assert "notes" in seen_fields  # staff sees the note partners and the public never get
    else:
        assert "notes" not in seen_fields and "notes" in hidden


def test_gdal_opens_no_tile_of_a_layer_one_may_not_read(demo: Demo, live_server: str) -> None:
    _, row, col = tile_of(*anchor(demo, "hazard_areas"), Z)
    assert sql_ids(demo, "hazard_areas", Z, row, col)  # there is something to hide
    _, as_partner, _, _ = gdal_read(
        live_server, "hazard_areas", Z, row, col, demo.keys[Role.partner]
    )
    _, as_public, fields, _ = gdal_read(live_server, "hazard_areas", Z, row, col, None)
    # The 404's JSON body decodes as an MVT holding no layer: GDAL sees nothing.
    assert as_partner and as_public == [] and fields == set()
