"""QGIS 3.22 (Debian's python3-qgis, headless, in a subprocess with /usr/bin/python3) reads a live
server: the vector tiles as a QgsVectorTileLayer (type=xyz) hold, in every tile QGIS fetched,
exactly the live items in its bounds (their visible values against SQL), and no hidden field's
value for a partner or the public; the OGC API Features collection as an OAPIF layer gives the
ids SQL finds in a box, and the fields the role may read."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_fixture, live_server_fixture  # noqa: F401
from .test_tiles import tile_box, tile_of
from .test_tiles_gdal import ROLE_CASES, Z, anchor

CLIENT = Path(__file__).with_name("qgis_client.py")
# What identifies a feature in a tile QGIS decoded (QGIS 3.22 numbers tile features itself and
# drops the MVT id): visible values, compared as a multiset with SQL's.
KEYS = {"hazard_areas": ("name", "status"), "outreach_sessions": ("held_on", "place_name", "men")}


def qgis(*args: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="qgis-") as runtime:  # Qt wants its own, mode 0700
        env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": runtime}
        env.pop("PYTHONPATH", None)
        done = subprocess.run(
            ["/usr/bin/python3", str(CLIENT), *args],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            env=env,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def key_of(demo: Demo, role: Role) -> str:
    return demo.keys[role] or "-"


def sql_rows(demo: Demo, layer: str, z: int, row: int, col: int) -> Counter[tuple]:
    columns = ", ".join(f"{c}::text" for c in KEYS[layer])
    with demo.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT {columns} FROM {layer} WHERE deleted_at IS NULL "
            "AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
            tile_box(z, row, col),
        ).all()
    return Counter(tuple(r) for r in rows)


@pytest.mark.parametrize(("layer", "role"), ROLE_CASES)
def test_qgis_vector_tile_layer_holds_exactly_the_roles_items(
    demo: Demo, live_server: str, layer: str, role: Role
) -> None:
    z, row, col = tile_of(*anchor(demo, layer), Z)
    asked = [*KEYS[layer], "notes"]  # notes: hidden from partners and the public
    out = qgis(
        "tiles", live_server, layer, key_of(demo, role), str(z), str(row), str(col), ",".join(asked)
    )
    assert out["valid"] and out["tiles"], out
    notes = []
    for tile_id, features in out["tiles"].items():
        tz, trow, tcol = (int(v) for v in tile_id.split("/"))
        expected = sql_rows(demo, layer, tz, trow, tcol)
        got = Counter(tuple(f[k] for k in KEYS[layer]) for f in features)
        assert got == expected, tile_id
        notes += [f["notes"] for f in features if f["notes"] is not None]
    assert sum(len(f) for f in out["tiles"].values()), "the anchor's own feature is drawn"
    if role is Role.staff:
        assert notes  # staff reads the note
    else:
        assert notes == [] and "notes" not in REGISTRY[layer].visible_fields(role)


@pytest.mark.parametrize(
    ("layer", "role"),
    [("hazard_areas", Role.partner), ("hazard_areas", Role.staff), ("villages", Role.public)],
)
def test_qgis_oapif_layer_gives_the_ids_sql_finds_in_a_box(
    demo: Demo, live_server: str, layer: str, role: Role
) -> None:
    lon, lat = anchor(demo, "hazard_areas")
    box = (lon - 0.2, lat - 0.2, lon + 0.2, lat + 0.2)
    out = qgis("features", live_server, layer, key_of(demo, role), *(str(v) for v in box))
    assert out["valid"], out
    with demo.engine.connect() as conn:
        expected = set(
            conn.exec_driver_sql(
                f"SELECT id FROM {layer} WHERE deleted_at IS NULL "
                "AND ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
                box,
            ).scalars()
        )
    assert expected and len(out["ids"]) == len(set(out["ids"])) and set(out["ids"]) == expected
    visible = set(REGISTRY[layer].visible_fields(role))
    assert visible <= set(out["fields"])
    hidden = {c.name for c in REGISTRY[layer].table.columns} - visible - set(out["fields"])
    assert not hidden & set(out["fields"])
    if layer == "hazard_areas":
        assert ("notes" in out["fields"]) == (role is Role.staff)


def test_qgis_cannot_load_a_layer_the_public_may_not_read(demo: Demo, live_server: str) -> None:
    lon, lat = anchor(demo, "hazard_areas")
    z, row, col = tile_of(lon, lat, Z)
    out = qgis("tiles", live_server, "hazard_areas", "-", str(z), str(row), str(col), "name")
    assert sum(len(f) for f in out["tiles"].values()) == 0
    features = qgis("features", live_server, "hazard_areas", "-", "44", "38", "51", "42")
    assert not features["valid"]
