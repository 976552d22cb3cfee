"""Whole layers for clients that read one URL (geopandas, GDAL /vsicurl/), and the properties=
and skipGeometry= choices, on items and exports alike."""

from __future__ import annotations

import io
import json
import subprocess

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import sqlalchemy as sa

from gis.spec import Role

from .ogc_support import (  # noqa: F401
    Demo,
    demo_client_fixture,
    demo_fixture,
    headers,
    live_server_fixture,
    sql_count,
)


def live_count(demo: Demo, layer: str) -> int:
    return sql_count(demo, f"SELECT count(*) FROM {layer} WHERE deleted_at IS NULL")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_geopandas_reads_a_whole_layer_from_its_download_url(
    demo: Demo, live_server: str, fmt: str
) -> None:
    url = f"{live_server}/collections/villages/items?f={fmt}&limit=all"
    if fmt == "csv":
        frame = pd.read_csv(url)
        assert {"longitude", "latitude", "name"} <= set(frame.columns)
    else:
        frame = gpd.read_file(url)
        assert frame.geometry.notna().all() and frame.crs.to_epsg() == 4326
    assert len(frame) == live_count(demo, "villages") > 5000


@pytest.mark.parametrize("fmt", ["fgb", "gpkg"])
def test_whole_layer_files_hold_every_feature(demo: Demo, demo_client, fmt: str) -> None:
    response = demo_client.get(f"/collections/villages/items?f={fmt}&limit=all")
    assert response.headers["accept-ranges"] == "bytes"
    frame = gpd.read_file(io.BytesIO(response.content))
    assert len(frame) == live_count(demo, "villages") and frame.crs.to_epsg() == 4326
    with demo.engine.connect() as conn:
        nulls = conn.execute(sa.text("SELECT count(*) FILTER (WHERE population IS NULL), "
                                     "count(*) FILTER (WHERE name_ru IS NULL) FROM villages")).one()  # fmt: skip
    assert (frame["population"].isna().sum(), frame["name_ru"].isna().sum()) == tuple(nulls)


def test_the_collection_links_its_downloads(demo_client) -> None:
    doc = demo_client.get("/collections/villages").json()
    enclosures = {link["type"]: link["href"] for link in doc["links"] if link["rel"] == "enclosure"}
    assert set(enclosures) == {
        "application/geo+json",
        "application/flatgeobuf",
        "application/geopackage+sqlite3",
        "text/csv; charset=utf-8",
    }
    assert all("limit=all" in href for href in enclosures.values())


def test_a_partner_download_carries_the_partner_layer_and_is_audited(
    demo: Demo, demo_client
) -> None:
    response = demo_client.get(
        "/collections/hazard_areas/items",
        params={"f": "fgb", "limit": "all", "filter": "status = 'confirmed'"},
        headers=headers(demo, Role.partner),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/flatgeobuf"
    frame = gpd.read_file(io.BytesIO(response.content))
    expected = sql_count(
        demo, "SELECT count(*) FROM hazard_areas WHERE deleted_at IS NULL AND status = 'confirmed'"
    )
    assert len(frame) == expected > 0 and set(frame["status"]) == {"confirmed"}
    assert "notes" not in frame.columns  # staff-only
    with demo.engine.connect() as conn:
        entry = conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    assert (entry.action, entry.layer, entry.feature_count) == (
        "export_fgb",
        "hazard_areas",
        expected,
    )
    assert entry.detail["filter"]["op"] == "="
    anonymous = demo_client.get(
        "/collections/hazard_areas/items", params={"f": "fgb", "limit": "all"}
    )
    assert anonymous.status_code == 404


def test_gdal_reads_the_csv_url(demo: Demo, live_server: str) -> None:
    url = f"{live_server}/collections/villages/items?f=csv&limit=all"
    done = subprocess.run(
        ["ogrinfo", "--debug", "on", "-ro", "-so", "-al", "-oo", "X_POSSIBLE_NAMES=longitude",
         "-oo", "Y_POSSIBLE_NAMES=latitude", f"CSV:/vsicurl/{url}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Feature Count: {live_count(demo, 'villages')}" in done.stdout
    assert "Geometry: Point" in done.stdout
    polygons = f"{live_server}/collections/districts/items?f=csv&limit=all"
    done = subprocess.run(
        ["ogrinfo", "-ro", "-so", "-al", f"CSV:/vsicurl/{polygons}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Feature Count: {live_count(demo, 'districts')}" in done.stdout
    assert "Extent: (44." in done.stdout  # the wkt column is read as the geometry


def test_pandas_reads_the_hxl_csv_with_the_row_opt_in(demo: Demo, live_server: str) -> None:
    url = f"{live_server}/collections/villages/items?f=csv&limit=all&hxl=true"
    frame = pd.read_csv(url, skiprows=[1])
    tags = pd.read_csv(url, nrows=1)
    assert tags.loc[0, "name"] == "#loc+name" and tags.loc[0, "longitude"] == "#geo+lon"
    assert len(frame) == live_count(demo, "villages")
    assert pd.api.types.is_float_dtype(frame["longitude"])


def test_properties_and_skip_geometry_on_items_and_exports(demo_client) -> None:
    params = {"limit": "5", "properties": "name,population", "skipGeometry": "true"}
    body = demo_client.get("/collections/villages/items", params=params).json()
    for feature in body["features"]:
        assert feature["geometry"] is None
        assert set(feature["properties"]) == {"external_id", "name", "population", "source"}
    csv = demo_client.get("/collections/villages/items", params={**params, "f": "csv"})
    frame = pd.read_csv(io.BytesIO(csv.content))
    assert list(frame.columns) == ["external_id", "name", "population", "source"]
    gpkg = demo_client.get("/collections/villages/items", params={**params, "f": "gpkg"})
    assert gpkg.status_code == 200
    fgb = demo_client.get("/collections/villages/items", params={**params, "f": "fgb"})
    assert fgb.status_code == 400 and "skipGeometry" in fgb.json()["description"]
    streamed = demo_client.get(
        "/collections/villages/items", params={**params, "limit": "all", "f": "json"}
    ).json()
    assert streamed["numberReturned"] == len(streamed["features"]) > 5000
    assert all(f["geometry"] is None for f in streamed["features"][:100])
    assert set(streamed["features"][0]["properties"]) == {
        "external_id",
        "name",
        "population",
        "source",
    }


def test_a_streamed_geojson_download_is_audited_when_it_ends(demo: Demo, demo_client) -> None:
    body = demo_client.get("/collections/districts/items?limit=all&f=json").json()
    with demo.engine.connect() as conn:
        entry = conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    assert (entry.action, entry.layer, entry.feature_count) == (
        "export_json",
        "districts",
        len(body["features"]),
    )
    assert entry.detail == {"whole": True, "completed": True}


def test_geojson_download_equals_the_paged_items(demo_client) -> None:
    whole = json.loads(demo_client.get("/collections/districts/items?limit=all").content)
    paged = demo_client.get("/collections/districts/items?limit=1000").json()
    assert whole["features"] == paged["features"]
    assert whole["numberReturned"] == paged["numberMatched"] == len(paged["features"])


def test_flatgeobuf_of_a_page_and_of_nothing(demo_client, tmp_path) -> None:
    page = demo_client.get("/collections/villages/items", params={"f": "fgb", "limit": "7"})
    path = tmp_path / "page.fgb"
    path.write_bytes(page.content)
    assert pyogrio.read_info(path)["features"] == 7
    empty = demo_client.get(
        "/collections/villages/items",
        params={"f": "fgb", "limit": "all", "filter": "population < 0"},
    )
    path.write_bytes(empty.content)
    assert empty.status_code == 200 and len(gpd.read_file(path)) == 0
