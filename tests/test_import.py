"""Importing files: every format, idempotent upserts, and every bad input refused whole."""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from gis.errors import InvalidInput, PayloadTooLarge
from gis.ingest import import_file
from gis.settings import ImportSettings
from layers import REGISTRY

from .helpers import hazard, point_feature, session, square, write_geojson

SESSIONS = REGISTRY["outreach_sessions"]
HAZARDS = REGISTRY["hazard_areas"]


def count(conn: sa.Connection, layer: str) -> int:
    return conn.execute(sa.text(f"SELECT count(*) FROM {layer}")).scalar_one()


def sessions_file(tmp_path: Path, n: int = 3, name: str = "s.geojson") -> Path:
    return write_geojson(
        tmp_path / name,
        [
            session(f"s{i}", 47.0 + i / 100, 40.0, girls=3, boys=4, participants_total=7)
            for i in range(n)
        ],
    )


def test_geojson_imports_and_reimport_changes_nothing(conn, tmp_path, limits) -> None:
    path = sessions_file(tmp_path)
    first = import_file(conn, SESSIONS, path, limits)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    stamps = conn.execute(sa.text("SELECT external_id, updated_at FROM outreach_sessions")).all()
    second = import_file(conn, SESSIONS, path, limits)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 3)
    assert (
        conn.execute(sa.text("SELECT external_id, updated_at FROM outreach_sessions")).all()
        == stamps
    )
    assert count(conn, "outreach_sessions") == 3


def test_changed_row_is_updated_and_its_updated_at_moves(conn, tmp_path, limits) -> None:
    import_file(conn, SESSIONS, sessions_file(tmp_path), limits)
    conn.exec_driver_sql("UPDATE outreach_sessions SET updated_at = now() - interval '1 day'")
    changed = write_geojson(
        tmp_path / "c.geojson",
        [
            session(f"s{i}", 47.0 + i / 100, 40.0, girls=3, boys=4, participants_total=7 + (i == 1))
            for i in range(3)
        ],
    )
    report = import_file(conn, SESSIONS, changed, limits)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 2)
    fresh = (
        conn.execute(
            sa.text(
                "SELECT external_id FROM outreach_sessions WHERE updated_at > now() - interval '1 hour'"
            )
        )
        .scalars()
        .all()
    )
    assert fresh == ["s1"]


def test_dry_run_reports_counts_and_writes_nothing(conn, tmp_path, limits) -> None:
    report = import_file(conn, SESSIONS, sessions_file(tmp_path), limits, dry_run=True)
    assert report.inserted == 3 and report.dry_run
    assert count(conn, "outreach_sessions") == 0
    assert count(conn, "import_batches") == 0


def test_polygon_is_promoted_to_multipolygon(conn, tmp_path, limits) -> None:
    path = write_geojson(tmp_path / "h.geojson", [hazard("h1", square(46.9, 39.9))])
    import_file(conn, HAZARDS, path, limits)
    kind = conn.execute(sa.text("SELECT GeometryType(geom) FROM hazard_areas")).scalar_one()
    assert kind == "MULTIPOLYGON"


def test_geopackage_in_another_crs_is_reprojected(conn, tmp_path, limits) -> None:
    frame = gpd.GeoDataFrame(
        {"external_id": ["g1"], "source": ["test"], "held_on": [dt.date(2024, 1, 2)]},
        geometry=[shapely.Point(47.0, 40.0)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32638")
    path = tmp_path / "s.gpkg"
    frame.to_file(path, driver="GPKG")
    import_file(conn, SESSIONS, path, limits)
    x, y = conn.execute(sa.text("SELECT ST_X(geom), ST_Y(geom) FROM outreach_sessions")).one()
    assert (x, y) == pytest.approx((47.0, 40.0), abs=1e-7)


def _zip_shapefile(tmp_path: Path, frame: gpd.GeoDataFrame, keep_prj: bool = True) -> Path:
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    with warnings.catch_warnings():  # Shapefile field names are cut to 10 characters, as expected
        warnings.simplefilter("ignore")
        frame.to_file(shp_dir / "layer.shp")
    path = tmp_path / "layer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for f in shp_dir.iterdir():
            if keep_prj or f.suffix != ".prj":
                archive.write(f, f.name)
    return path


def test_zipped_shapefile_imports(conn, tmp_path, limits) -> None:
    points = gpd.GeoSeries([shapely.Point(47.0, 40.0), shapely.Point(47.1, 40.1)], crs="EPSG:4326")
    frame = gpd.GeoDataFrame(
        {
            "external_id": ["z1", "z2"],
            "source": ["t", "t"],
            "held_on": ["2024-01-02", "2024-02-03"],
        },
        geometry=points.to_crs("EPSG:32638"),
    )
    report = import_file(conn, SESSIONS, _zip_shapefile(tmp_path, frame), limits)
    assert report.inserted == 2
    xs = (
        conn.execute(sa.text("SELECT ST_X(geom) FROM outreach_sessions ORDER BY external_id"))
        .scalars()
        .all()
    )
    assert xs == pytest.approx([47.0, 47.1], abs=1e-7)


def test_csv_with_longitude_latitude_and_csv_with_wkt(conn, tmp_path, limits) -> None:
    lonlat = tmp_path / "a.csv"
    lonlat.write_text("external_id,longitude,latitude,held_on,source\nc1,47.2,40.2,2024-03-01,t\n")
    wkt = tmp_path / "b.csv"
    wkt.write_text(
        'external_id,wkt,hazard_type,status,recorded_on,source\nw1,"POLYGON((47 40,47.01 40,47.01 40.01,47 40))",IED,suspected,2022-01-01,t\n'
    )
    assert import_file(conn, SESSIONS, lonlat, limits).inserted == 1
    assert import_file(conn, HAZARDS, wkt, limits).inserted == 1


def test_kobo_and_odk_csv_exports_are_read_by_their_gps_columns(conn, tmp_path, limits) -> None:
    kobo = tmp_path / "kobo.csv"
    kobo.write_text(
        "_uuid,held_on,_gps_latitude,_gps_longitude,_gps_altitude,_gps_precision\n"
        "a1b2,2024-03-01,40.1,47.3,0,5\n"
    )
    odk = tmp_path / "odk.csv"
    odk.write_text("KEY,held_on,gps-Latitude,gps-Longitude\nuuid:9,2024-03-02,40.2,47.4\n")
    assert import_file(conn, SESSIONS, kobo, limits, id_field="_uuid").inserted == 1
    assert import_file(conn, SESSIONS, odk, limits, id_field="KEY").inserted == 1
    xs = (
        conn.execute(sa.text("SELECT ST_X(geom) FROM outreach_sessions ORDER BY external_id"))
        .scalars()
        .all()
    )
    assert xs == pytest.approx([47.3, 47.4])


def test_html_in_text_is_stored_as_text(conn, tmp_path, limits) -> None:
    name = "<img src=x onerror=alert(1)>"
    path = write_geojson(tmp_path / "x.geojson", [session("x1", 47, 40, place_name=name)])
    import_file(conn, SESSIONS, path, limits)
    assert conn.execute(sa.text("SELECT place_name FROM outreach_sessions")).scalar_one() == name


# --- bad input: a clear message naming row and field, and nothing written ----------------------


def rejected(conn, spec, path: Path, limits: ImportSettings, **options) -> InvalidInput:
    before = {s: count(conn, s) for s in ("outreach_sessions", "hazard_areas", "import_batches")}
    with pytest.raises(InvalidInput) as info:
        import_file(conn, spec, path, limits, **options)
    after = {s: count(conn, s) for s in before}
    assert after == before, "a rejected import wrote something"
    return info.value


def test_empty_file(conn, tmp_path, limits) -> None:
    (tmp_path / "e.geojson").write_bytes(b"")
    assert "empty" in rejected(conn, SESSIONS, tmp_path / "e.geojson", limits).message


def test_file_that_is_not_what_its_extension_says(conn, tmp_path, limits) -> None:
    (tmp_path / "n.geojson").write_text("name,lat\nfoo,1\n")
    assert "not GeoJSON" in rejected(conn, SESSIONS, tmp_path / "n.geojson", limits).message
    (tmp_path / "n.gpkg").write_text("hello")
    assert "not a GeoPackage" in rejected(conn, SESSIONS, tmp_path / "n.gpkg", limits).message
    (tmp_path / "n.zip").write_text("hello")
    assert "not a zip" in rejected(conn, SESSIONS, tmp_path / "n.zip", limits).message


def test_feature_without_geometry_names_its_row(conn, tmp_path, limits) -> None:
    features = [session("a", 47, 40), session("b", 47, 40)]
    features[1]["geometry"] = None
    err = rejected(conn, SESSIONS, write_geojson(tmp_path / "g.geojson", features), limits)
    assert [(e.row, e.field) for e in err.errors] == [(2, "geometry")]
    assert "no geometry" in err.errors[0].reason


def test_wrong_geometry_type_for_the_layer(conn, tmp_path, limits) -> None:
    err = rejected(
        conn,
        HAZARDS,
        write_geojson(
            tmp_path / "w.geojson",
            [
                point_feature(
                    "p", 47, 40, hazard_type="IED", status="confirmed", recorded_on="2024-01-01"
                )
            ],
        ),
        limits,
    )
    assert err.errors[0].row == 1 and "takes MultiPolygon" in err.errors[0].reason


def test_self_intersecting_polygon_is_refused_unless_make_valid(conn, tmp_path, limits) -> None:
    bowtie = [(47, 40), (47.1, 40.1), (47.1, 40), (47, 40.1), (47, 40)]
    path = write_geojson(tmp_path / "b.geojson", [hazard("bow", bowtie)])
    err = rejected(conn, HAZARDS, path, limits)
    assert "Self-intersection" in err.errors[0].reason and "--make-valid" in err.errors[0].reason
    report = import_file(conn, HAZARDS, path, limits, make_valid=True)
    assert report.inserted == 1
    assert conn.execute(sa.text("SELECT ST_IsValid(geom) FROM hazard_areas")).scalar_one()


def test_swapped_coordinates_are_named(conn, tmp_path, limits) -> None:
    err = rejected(
        conn, SESSIONS, write_geojson(tmp_path / "s.geojson", [session("s", 40.4, 47.5)]), limits
    )
    assert "latitude and longitude look swapped" in err.errors[0].reason


def test_outside_area_of_interest(conn, tmp_path, limits) -> None:
    err = rejected(
        conn, SESSIONS, write_geojson(tmp_path / "s.geojson", [session("s", 2.35, 48.85)]), limits
    )
    assert "outside the area of interest" in err.errors[0].reason


def test_out_of_range_coordinates(conn, tmp_path, limits) -> None:
    err = rejected(
        conn, SESSIONS, write_geojson(tmp_path / "s.geojson", [session("s", 47, 95)]), limits
    )
    assert "out of range" in err.errors[0].reason


def test_unknown_enum_value_lists_the_allowed_ones(conn, tmp_path, limits) -> None:
    err = rejected(
        conn,
        HAZARDS,
        write_geojson(tmp_path / "h.geojson", [hazard("h", square(47, 40), status="dangerous")]),
        limits,
    )
    (e,) = err.errors
    assert e.field == "status" and "'suspected'" in e.reason and "'cleared'" in e.reason


def test_negative_count(conn, tmp_path, limits) -> None:
    err = rejected(
        conn,
        SESSIONS,
        write_geojson(tmp_path / "s.geojson", [session("s", 47, 40, girls=-2)]),
        limits,
    )
    assert (err.errors[0].row, err.errors[0].field) == (1, "girls")


def test_unparseable_and_future_dates(conn, tmp_path, limits) -> None:
    future = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    path = write_geojson(
        tmp_path / "d.geojson",
        [session("a", 47, 40, held_on="yesterday"), session("b", 47, 40, held_on=future)],
    )
    err = rejected(conn, SESSIONS, path, limits)
    assert [(e.row, e.field) for e in err.errors] == [(1, "held_on"), (2, "held_on")]
    assert "in the future" in err.errors[1].reason


def test_same_external_id_twice_in_one_file(conn, tmp_path, limits) -> None:
    err = rejected(
        conn,
        SESSIONS,
        write_geojson(tmp_path / "d.geojson", [session("a", 47, 40), session("a", 47.1, 40)]),
        limits,
    )
    assert err.errors[0].row == 2 and "also used by row 1" in err.errors[0].reason


def test_one_bad_row_rejects_the_whole_file(conn, tmp_path, limits) -> None:
    features = [session(f"s{i}", 47, 40) for i in range(50)] + [session("bad", 47, 40, boys=-1)]
    rejected(conn, SESSIONS, write_geojson(tmp_path / "m.geojson", features), limits)


def test_projected_shapefile_without_prj(conn, tmp_path, limits) -> None:
    frame = gpd.GeoDataFrame(
        {"external_id": ["z1"], "source": ["t"], "held_on": ["2024-01-02"]},
        geometry=gpd.GeoSeries([shapely.Point(47, 40)], crs="EPSG:4326").to_crs("EPSG:32638"),
    )
    err = rejected(conn, SESSIONS, _zip_shapefile(tmp_path, frame, keep_prj=False), limits)
    assert "no .prj" in err.message and "projected" in err.message


def test_zip_without_shp(conn, tmp_path, limits) -> None:
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hi")
    assert "no .shp" in rejected(conn, SESSIONS, path, limits).message


def test_zip_bomb_is_refused(conn, tmp_path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("layer.shp", b"\0" * 30_000_000)
        archive.writestr("layer.shx", b"")
        archive.writestr("layer.dbf", b"")
    assert path.stat().st_size < 100_000
    with pytest.raises(PayloadTooLarge, match="zip bomb"):
        import_file(conn, SESSIONS, path, ImportSettings(max_unzipped_mb=10))


def test_file_over_the_upload_limit(conn, tmp_path) -> None:
    path = sessions_file(tmp_path, n=200)
    with pytest.raises(PayloadTooLarge, match="limit"):
        import_file(conn, SESSIONS, path, ImportSettings(max_upload_mb=0.001))


def test_missing_id_column_is_explained(conn, tmp_path, limits) -> None:
    feature = session("a", 47, 40)
    del feature["properties"]["external_id"]
    err = rejected(conn, SESSIONS, write_geojson(tmp_path / "i.geojson", [feature]), limits)
    assert "no 'external_id' column" in err.message


def test_unsupported_extension(conn, tmp_path, limits) -> None:
    (tmp_path / "x.kml").write_text("<kml/>")
    assert "unsupported file type" in rejected(conn, SESSIONS, tmp_path / "x.kml", limits).message
