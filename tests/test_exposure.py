"""People exposed: tiny GeoTIFFs with known sums, and the villages when there is no raster."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import shapely
import sqlalchemy as sa
from pyproj import Transformer
from rasterio.transform import from_origin

from gis.analysis import pairs
from gis.analysis.answers import exposure_answer
from gis.analysis.exposure import DESCRIPTION_TAG, MODELLED_TAG
from gis.errors import Forbidden, InvalidParameter
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY

from .test_analysis_geo import add, blob, moved, point_polygon_m

WEST, NORTH, CELL = 46.95, 40.15, 0.01  # 20 × 20 cells of 0.01°
HAZARD_AT = (47.035, 40.075)  # a cell centre


def district(
    conn: sa.Connection, name: str, west: float, south: float, east: float, north: float
) -> None:
    add(
        conn,
        "districts",
        shapely.box(west, south, east, north),
        name=name,
        code=f"AZ.{name[:2].upper()}",
    )


def write_raster(
    path: Path,
    data: np.ndarray,
    *,
    crs: str = "EPSG:4326",
    transform: Any = None,
    nodata: float | None = -1.0,
    modelled: bool = False,
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": transform or from_origin(WEST, NORTH, CELL, CELL),
        "nodata": nodata,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype("float32"), 1)
        if modelled:
            dst.update_tags(**{MODELLED_TAG: "true", DESCRIPTION_TAG: "MODELLED for the test"})
    return path


def centres() -> tuple[np.ndarray, np.ndarray]:
    cols, rows = np.meshgrid(np.arange(20), np.arange(20))
    return WEST + (cols + 0.5) * CELL, NORTH - (rows + 0.5) * CELL


def ask(
    conn: sa.Connection, settings: AnalysisSettings, role: Role = Role.admin, **params: Any
) -> dict[str, Any]:
    return json.loads(exposure_answer(conn, REGISTRY, settings, role, **params))


def test_raster_sums_people_whose_cell_centre_is_within_the_distance(conn, tmp_path) -> None:
    district(conn, "West", 46.95, 39.95, 47.05, 40.15)
    district(conn, "East", 47.05, 39.95, 47.15, 40.15)
    hazard = blob(*HAZARD_AT, 50.0)
    add(conn, "hazard_areas", hazard)
    add(conn, "hazard_areas", blob(47.12, 40.0, 50.0), status="cleared")  # never counts
    rng = np.random.default_rng(3)
    data = rng.integers(1, 100, (20, 20)).astype(float)
    xs, ys = centres()
    distance = np.vectorize(lambda x, y: point_polygon_m((x, y), hazard))(xs, ys)
    within_m = 1600.0
    assert not np.any(np.abs(distance - within_m) < 0.03 * within_m), "fixture too close to call"
    near, west = distance <= within_m, xs < 47.05
    path = write_raster(tmp_path / "pop.tif", data, modelled=True)
    answer = ask(conn, AnalysisSettings(rasters={"population": str(path)}), within_m=within_m)
    by_name = {f["properties"]["district"]: f["properties"] for f in answer["features"]}
    assert by_name["West"]["population"] == round(data[west].sum())
    assert by_name["West"]["people_exposed"] == round(data[west & near].sum())
    assert by_name["East"]["people_exposed"] == round(data[~west & near].sum())
    summary = answer["summary"]
    assert summary["population"] == round(data.sum()) and summary["people_exposed"] == round(
        data[near].sum()
    )
    assert (summary["source"], summary["raster"], summary["modelled"]) == (
        "raster",
        "population",
        True,
    )
    assert summary["warning"].startswith("MODELLED population, not observed")


def test_nodata_and_negative_cells_count_as_nobody(conn, tmp_path) -> None:
    district(conn, "Only", 46.95, 39.95, 47.15, 40.15)
    data = np.full((20, 20), 10.0)
    data[0, :] = -1.0  # nodata
    data[1, :] = -7.0  # nonsense
    path = write_raster(tmp_path / "pop.tif", data)
    answer = ask(conn, AnalysisSettings(rasters={"population": str(path)}), within_m=100)
    assert answer["summary"]["population"] == 18 * 20 * 10
    assert answer["summary"]["modelled"] is False and "warning" not in answer["summary"]


def test_raster_in_a_projected_crs_is_read_in_its_own_coordinates(conn, tmp_path) -> None:
    district(conn, "Only", 46.9, 39.9, 47.2, 40.2)
    add(conn, "hazard_areas", blob(*HAZARD_AT, 50.0))
    to_utm = Transformer.from_crs(4326, 32638, always_xy=True)
    x0, y0 = to_utm.transform(*HAZARD_AT)
    west, north = np.floor(x0 / 1000) * 1000 - 5000, np.ceil(y0 / 1000) * 1000 + 5000
    data = np.zeros((10, 10))
    row, col = int((north - y0) // 1000), int((x0 - west) // 1000)
    data[row, col] = 700.0  # the hazard's own cell: its centre is within 1,000 m
    data[0, 0] = 300.0  # about 6 km away
    path = write_raster(
        tmp_path / "utm.tif", data, crs="EPSG:32638", transform=from_origin(west, north, 1000, 1000)
    )
    summary = ask(conn, AnalysisSettings(rasters={"population": str(path)}), within_m=1000)[
        "summary"
    ]
    assert (summary["population"], summary["people_exposed"]) == (1000, 700)


def test_without_a_raster_the_villages_populations_are_summed(conn) -> None:
    district(conn, "Only", 46.95, 39.95, 47.15, 40.15)
    add(conn, "hazard_areas", blob(*HAZARD_AT, 50.0))
    add(
        conn, "villages", shapely.Point(moved(*HAZARD_AT, 10.0, 900.0)), name="near", population=120
    )
    add(conn, "villages", shapely.Point(moved(*HAZARD_AT, 10.0, 1100.0)), name="far", population=80)
    add(conn, "villages", shapely.Point(moved(*HAZARD_AT, 200.0, 500.0)), name="unknown")
    answer = ask(conn, AnalysisSettings(rasters={}), within_m=1000)
    p = answer["features"][0]["properties"]
    assert (p["population"], p["people_exposed"], p["exposed_places_population_unknown"]) == (
        200,
        120,
        1,
    )
    assert answer["summary"]["source"] == "places" and answer["summary"]["modelled"] is False


def test_a_configured_raster_whose_file_is_missing_falls_back_and_says_so(conn, tmp_path) -> None:
    district(conn, "Only", 46.95, 39.95, 47.15, 40.15)
    settings = AnalysisSettings(rasters={"population": str(tmp_path / "gone.tif")})
    summary = ask(conn, settings, within_m=1000)["summary"]
    assert summary["source"] == "places" and "file is missing" in summary["note"]


def test_a_request_names_only_configured_raster_keys_never_a_path(conn, tmp_path) -> None:
    path = write_raster(tmp_path / "pop.tif", np.ones((20, 20)))
    settings = AnalysisSettings(rasters={"population": str(path)})
    for key in (str(path), "../../etc/passwd", "other"):
        with pytest.raises(InvalidParameter, match="unknown raster"):
            ask(conn, settings, raster=key)


def test_one_district_and_the_access_rule(conn, tmp_path) -> None:
    district(conn, "West", 46.95, 39.95, 47.05, 40.15)
    district(conn, "East", 47.05, 39.95, 47.15, 40.15)
    path = write_raster(tmp_path / "pop.tif", np.ones((20, 20)))
    settings = AnalysisSettings(rasters={"population": str(path)})
    answer = ask(conn, settings, district="east", within_m=500)
    assert [f["properties"]["district"] for f in answer["features"]] == ["East"]
    assert answer["summary"]["population"] == 200
    with pytest.raises(Forbidden):
        ask(conn, settings, Role.public)
    with pytest.raises(InvalidParameter, match="within_m"):
        ask(conn, settings, within_m=-3)


def test_demo_raster_is_labelled_modelled(tmp_path) -> None:
    from demo.raster import build_population_raster
    from demo.reference import read_districts, read_villages

    from .conftest import DATA

    districts = read_districts(DATA / "azerbaijan" / "aze_adm1_districts.geojson")
    villages = read_villages(DATA / "azerbaijan" / "aze_places.geojson")
    path = build_population_raster(districts, villages, tmp_path / "pop.tif")
    with rasterio.open(path) as src:
        tags, total = src.tags(), float(src.read(1, masked=True).sum())
        assert src.res == pytest.approx((1 / 120, 1 / 120))
    assert (
        tags[MODELLED_TAG] == "true"
        and "MODELLED" in tags[DESCRIPTION_TAG]
        and "NOT observed" in tags[DESCRIPTION_TAG]
    )
    assert total == pytest.approx(
        float(districts["population_1999"].astype("Float64").sum()), rel=1e-5
    )


def test_a_place_on_a_shared_border_counts_once_and_districts_sum_to_the_total(conn) -> None:
    # Two districts sharing the meridian 47.05; a village exactly on it, near a hazard.
    district(conn, "West", 46.95, 39.95, 47.05, 40.15)
    district(conn, "East", 47.05, 39.95, 47.15, 40.15)
    on_border = (47.05, 40.05)
    add(conn, "hazard_areas", blob(*moved(*on_border, 90.0, 400.0), 50.0))
    add(conn, "villages", shapely.Point(on_border), name="border", population=300)
    add(conn, "villages", shapely.Point(47.10, 40.10), name="east", population=50)
    answer = ask(conn, AnalysisSettings(rasters={}), within_m=1000)
    per_district = {f["properties"]["district"]: f["properties"] for f in answer["features"]}
    assert sum(p["people_exposed"] for p in per_district.values()) == 300
    assert sum(p["population"] for p in per_district.values()) == 350
    assert answer["summary"]["people_exposed"] == 300 and answer["summary"]["population"] == 350
    # Asked for one district, the border village counts there (the coverage rule).
    east = ask(conn, AnalysisSettings(rasters={}), within_m=1000, district="East")
    assert east["features"][0]["properties"]["people_exposed"] == 300


def test_raster_exposure_is_the_geodesic_definition_for_concave_long_and_near_threshold_shapes(
    conn, tmp_path
) -> None:
    """Every cell against an independent oracle (pyproj on densified lon/lat edges), with shapes
    that a buffer drawn as a polygon or a plain projection gets wrong: an L, a 15 km band, and
    spikes whose tips lie 0.3 m either side of the distance from a cell centre."""
    from .test_exposure_cells import CLOSE_M, band, l_shape, oracle_m

    within_m = 1000.0
    # The border 47.055 runs through the centres of column 10: those cells count once, in West.
    district(conn, "West", 46.95, 39.95, 47.055, 40.15)
    district(conn, "East", 47.055, 39.95, 47.15, 40.15)
    xs, ys = centres()
    lonlat = np.column_stack([xs.ravel(), ys.ravel()])
    shapes = [l_shape(47.0, 40.1, 2500, 150, 200), band(46.96, 39.99, 15000, 60, 80)]
    for i, (col, row, azimuth, off) in enumerate(
        [(3, 15, 30, 0.3), (4, 15, 30, -0.3), (15, 3, 250, 0.3), (16, 3, 250, -0.3)]
    ):
        tip = moved(*lonlat[row * 20 + col], azimuth + 7 * i, within_m + off)
        body = [moved(*tip, azimuth + 7 * i + side, 400) for side in (-4, 4)]
        shapes.append(shapely.Polygon([tip, *body]))
    for shape in shapes:
        add(conn, "hazard_areas", shape)
    truth = np.min([oracle_m(lonlat, s) for s in shapes], axis=0).reshape(20, 20)
    data = np.random.default_rng(5).integers(1, 100, (20, 20)).astype(float)
    data[np.abs(truth - within_m) <= CLOSE_M] = 0.0  # too close for the oracle to call: nobody
    near, west = truth <= within_m, xs <= 47.055 + 1e-9
    assert near.sum() > 20 and (~near).sum() > 20  # both outcomes are exercised
    path = write_raster(tmp_path / "pop.tif", data)
    answer = ask(conn, AnalysisSettings(rasters={"population": str(path)}), within_m=within_m)
    by_name = {f["properties"]["district"]: f["properties"] for f in answer["features"]}
    for name, mask in (("West", west), ("East", ~west)):
        assert by_name[name]["population"] == round(data[mask].sum())
        assert by_name[name]["people_exposed"] == round(data[mask & near].sum())
    assert answer["summary"]["population"] == round(data.sum())
    assert answer["summary"]["people_exposed"] == round(data[near].sum())


@pytest.mark.parametrize("declared", [False, True], ids=["never measured", "pairs stored"])
def test_places_exposure_reads_without_writing_even_after_a_plain_sql_write(conn, declared) -> None:
    """The places path counts pairs the way coverage does (gis/analysis/pairs_now.py): stored
    pairs of fresh rows plus those measured now, so it answers in a READ ONLY transaction — also
    after a write that bypassed the app left stamps stale, and beyond the stored reach."""
    district(conn, "Only", 46.95, 39.95, 47.15, 40.15)
    add(conn, "hazard_areas", blob(*HAZARD_AT, 50.0))
    add(conn, "villages", shapely.Point(moved(*HAZARD_AT, 10.0, 900.0)), name="a", population=120)
    add(conn, "villages", shapely.Point(moved(*HAZARD_AT, 10.0, 1500.0)), name="b", population=80)
    add(conn, "villages", shapely.Point(moved(*HAZARD_AT, 10.0, 6000.0)), name="c", population=7)
    if declared:
        pairs.declare(conn, REGISTRY["hazard_areas"], REGISTRY["villages"])
    # A plain SQL write the app never saw: village b moves to 950 m from the hazard.
    lon, lat = moved(*HAZARD_AT, 10.0, 950.0)
    conn.execute(
        sa.text("UPDATE villages SET geom = ST_SetSRID(ST_Point(:x, :y), 4326) WHERE name = 'b'"),
        {"x": lon, "y": lat},
    )
    conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # from here on, any write would fail
    settings = AnalysisSettings(rasters={})
    assert ask(conn, settings, within_m=1000)["summary"]["people_exposed"] == 200
    assert ask(conn, settings, within_m=800)["summary"]["people_exposed"] == 0
    assert ask(conn, settings, within_m=6100)["summary"]["people_exposed"] == 207
