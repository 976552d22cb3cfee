"""Part 2 (CRS): features in UTM, Web Mercator and EPSG:4326 are PostGIS's transform of the stored
CRS84 geometry, checked against pyproj; bbox-crs selects what the same box in CRS84 selects."""

from __future__ import annotations

import io

import pandas as pd
import pyogrio
import pytest
from pyproj import Transformer

from .ogc_support import Demo, demo_client_fixture, demo_fixture, sql_count  # noqa: F401

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def first_villages(client, **params: str) -> dict:
    response = client.get("/collections/villages/items", params={"limit": "50", **params})
    assert response.status_code == 200, response.text
    return response.json() | {"_crs": response.headers.get("content-crs")}


@pytest.mark.parametrize("code", ["32638", "32639", "3857"])
def test_a_projected_feature_is_pyprojs_transform_within_a_millimetre(
    demo_client, code: str
) -> None:
    lonlat = first_villages(demo_client)
    projected = first_villages(demo_client, crs=EPSG + code)
    assert projected["_crs"] == f"<{EPSG}{code}>"
    assert lonlat["_crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    to_crs = Transformer.from_crs("OGC:CRS84", f"EPSG:{code}", always_xy=True)
    worst = 0.0
    for a, b in zip(lonlat["features"], projected["features"], strict=True):
        assert a["id"] == b["id"]
        x, y = to_crs.transform(*a["geometry"]["coordinates"])
        bx, by = b["geometry"]["coordinates"]
        worst = max(worst, abs(x - bx), abs(y - by))
    assert worst < 0.001, worst
    assert "crs" not in projected["features"][0]["geometry"]


def test_epsg_4326_answers_latitude_first(demo_client) -> None:
    lonlat = first_villages(demo_client)
    latlon = first_villages(demo_client, crs=EPSG + "4326")
    assert latlon["_crs"] == f"<{EPSG}4326>"
    for a, b in zip(lonlat["features"], latlon["features"], strict=True):
        assert b["geometry"]["coordinates"] == a["geometry"]["coordinates"][::-1]
        lat, lon = b["geometry"]["coordinates"]
        assert 38 < lat < 42 and 44 < lon < 51  # Azerbaijan: latitude first


def test_one_item_in_utm(demo_client) -> None:
    feature = first_villages(demo_client)["features"][0]
    one = demo_client.get(
        f"/collections/villages/items/{feature['id']}", params={"crs": "EPSG:32638"}
    )
    assert one.headers["content-crs"] == f"<{EPSG}32638>"
    x, y = Transformer.from_crs("OGC:CRS84", "EPSG:32638", always_xy=True).transform(
        *feature["geometry"]["coordinates"]
    )
    bx, by = one.json()["geometry"]["coordinates"]
    assert abs(x - bx) < 0.001 and abs(y - by) < 0.001


@pytest.mark.parametrize(
    ("crs", "box"),
    [
        (EPSG + "4326", "39.8,46.8,40.3,47.3"),  # latitude first
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "46.8,39.8,47.3,40.3"),
    ],
)
def test_bbox_crs_reads_the_crs_axis_order(demo: Demo, demo_client, crs: str, box: str) -> None:
    body = first_villages(demo_client, bbox=box, **{"bbox-crs": crs, "limit": "10000"})
    expected = sql_count(
        demo,
        "SELECT count(*) FROM villages WHERE deleted_at IS NULL "
        "AND ST_Intersects(geom, ST_MakeEnvelope(46.8, 39.8, 47.3, 40.3, 4326))",
    )
    assert body["numberReturned"] == expected > 0


def test_bbox_in_utm_is_transformed_not_the_column(demo: Demo, demo_client) -> None:
    body = first_villages(
        demo_client,
        bbox="600000,4420000,660000,4470000",
        **{"bbox-crs": "EPSG:32638", "limit": "10000"},
    )
    expected = sql_count(
        demo,
        "SELECT count(*) FROM villages WHERE deleted_at IS NULL AND ST_Intersects(geom, "
        "ST_Transform(ST_MakeEnvelope(600000, 4420000, 660000, 4470000, 32638), 4326))",
    )
    assert body["numberReturned"] == expected > 0


def test_exports_take_the_crs(demo_client, tmp_path) -> None:
    params = {"limit": "20", "crs": EPSG + "32639"}
    gpkg = demo_client.get("/collections/villages/items", params={**params, "f": "gpkg"})
    path = tmp_path / "v.gpkg"
    path.write_bytes(gpkg.content)
    info = pyogrio.read_info(path)
    assert "32639" in info["crs"] and info["features"] == 20
    csv = demo_client.get("/collections/villages/items", params={**params, "f": "csv"})
    frame = pd.read_csv(io.BytesIO(csv.content))
    assert {"x", "y"} <= set(frame.columns) and "longitude" not in frame.columns
    assert frame["x"].between(-500_000, 1_500_000).all()  # metres east in zone 39, not degrees
    lonlat = demo_client.get("/collections/villages/items", params={"limit": "20", "f": "csv"})
    plain = pd.read_csv(io.BytesIO(lonlat.content))
    to_utm = Transformer.from_crs("OGC:CRS84", "EPSG:32639", always_xy=True)
    x, y = to_utm.transform(plain["longitude"].to_numpy(), plain["latitude"].to_numpy())
    assert (
        abs(x - frame["x"].to_numpy()).max() < 0.001
        and abs(y - frame["y"].to_numpy()).max() < 0.001
    )
