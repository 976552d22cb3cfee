"""Real clients against the app served on a local port: GDAL's OAPIF driver and OWSLib."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from owslib.ogcapi.features import Features

from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_fixture, live_server_fixture, sql_count  # noqa: F401

PUBLIC = [s.name for s in REGISTRY.values() if s.readable_by(Role.public)]


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def gpkg_count(path: Path, layer: str) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute(f'SELECT count(*) FROM "{layer}"').fetchone()[0])


def test_ogrinfo_lists_every_public_layer(live_server: str) -> None:
    out = run("ogrinfo", "-ro", "-so", f"OAPIF:{live_server}")
    for layer in PUBLIC:
        assert f": {layer} (" in out
    assert "hazard_areas" not in out


@pytest.mark.parametrize("layer", PUBLIC)
def test_ogr2ogr_copies_every_public_layer_whole(
    demo: Demo, live_server: str, tmp_path: Path, layer: str
) -> None:
    out = tmp_path / f"{layer}.gpkg"
    expected = sql_count(demo, f"SELECT count(*) FROM {layer} WHERE deleted_at IS NULL")
    # GDAL pages 10 features at a time by default; the big layers are copied with bigger pages.
    options = ["-oo", "PAGE_SIZE=1000"] if expected > 1000 else []
    run("ogr2ogr", "-f", "GPKG", *options, str(out), f"OAPIF:{live_server}/collections/{layer}")
    assert gpkg_count(out, layer) == expected
    info = run("ogrinfo", "-so", str(out), layer)
    assert (
        REGISTRY[layer].geometry_type.upper().replace("MULTIPOLYGON", "MULTI POLYGON")
        in info.upper()
    )


def test_ogr2ogr_reads_a_partner_layer_with_a_key_header(
    demo: Demo, live_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "hazards.gpkg"
    key = demo.keys[Role.partner]
    run("ogr2ogr", "--config", "GDAL_HTTP_HEADERS", f"X-API-Key: {key}", "-oo", "PAGE_SIZE=5000",
        "-f", "GPKG", str(out), f"OAPIF:{live_server}/collections/hazard_areas")  # fmt: skip
    assert gpkg_count(out, "hazard_areas") == sql_count(
        demo, "SELECT count(*) FROM hazard_areas WHERE deleted_at IS NULL"
    )
    with sqlite3.connect(out) as db:
        columns = {row[1] for row in db.execute('PRAGMA table_info("hazard_areas")')}
    assert "notes" not in columns and "status" in columns


def test_owslib_reads_collections_queryables_and_items(demo: Demo, live_server: str) -> None:
    api = Features(live_server)
    assert {c["id"] for c in api.collections()["collections"]} == set(PUBLIC)
    assert "held_on" in api.collection_queryables("outreach_sessions")["properties"]
    items = api.collection_items("villages", limit=7, bbox=[46.5, 39.5, 47.5, 40.5])
    assert items["type"] == "FeatureCollection" and items["numberReturned"] == 7
    partner = Features(live_server, headers={"X-API-Key": demo.keys[Role.partner]})
    hazards = partner.collection_items("hazard_areas", limit=3, status="confirmed")
    assert {f["properties"]["status"] for f in hazards["features"]} == {"confirmed"}
    feature = partner.collection_item("hazard_areas", str(hazards["features"][0]["id"]))
    assert feature["id"] == hazards["features"][0]["id"]
