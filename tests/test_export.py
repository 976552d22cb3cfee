"""Exports are read by GDAL and re-import to exactly what went in."""

from __future__ import annotations

import json
import subprocess

import pytest
import sqlalchemy as sa

from gis.export import export_layer
from gis.ingest import import_file
from gis.spec import Role
from layers import REGISTRY

from .helpers import hazard, session, square, write_geojson

LAYERS = {
    "outreach_sessions": lambda: [
        session(
            "s1",
            47.1234567,
            40.7654321,
            girls=1,
            boys=2,
            women=3,
            men=4,
            participants_total=10,
            audience="mixed",
            modality="community",
            place_name="Ağdam <b>centre</b>",
        ),
        session("s2", 47.2, 40.1, held_on="2021-12-31"),
    ],
    "hazard_areas": lambda: [
        hazard(
            "h1",
            square(46.9, 39.9, 0.0123457),
            status="suspected",
            survey_method="non-technical survey",
        ),
        hazard(
            "h2",
            [(47.0, 40.0), (47.02, 40.0), (47.01, 40.015), (47.0, 40.0)],
            status="cleared",
            status_changed_on="2024-06-30",
        ),
    ],
}


def snapshot(conn: sa.Connection, layer: str) -> list[tuple]:
    spec = REGISTRY[layer]
    cols = ", ".join(["external_id", "source", *spec.property_names, "ST_AsEWKB(geom)"])
    return [
        tuple(r) for r in conn.execute(sa.text(f"SELECT {cols} FROM {layer} ORDER BY external_id"))
    ]


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
@pytest.mark.parametrize("layer", list(LAYERS))
def test_export_then_reimport_is_identical(conn, tmp_path, limits, layer, fmt) -> None:
    spec = REGISTRY[layer]
    import_file(conn, spec, write_geojson(tmp_path / "in.geojson", LAYERS[layer]()), limits)
    before = snapshot(conn, layer)
    out = tmp_path / f"out.{fmt}"
    assert export_layer(conn, spec, fmt, out, spec.visible_fields(Role.admin)) == 2
    conn.exec_driver_sql(f"DELETE FROM {layer}")
    report = import_file(conn, spec, out, limits)
    assert report.inserted == 2
    assert snapshot(conn, layer) == before
    again = import_file(conn, spec, out, limits)
    assert again.unchanged == 2


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "csv"])
def test_gdal_reads_every_export_with_its_properties(conn, tmp_path, limits, fmt) -> None:
    spec = REGISTRY["outreach_sessions"]
    import_file(
        conn, spec, write_geojson(tmp_path / "in.geojson", LAYERS["outreach_sessions"]()), limits
    )
    out = tmp_path / f"out.{fmt}"
    export_layer(conn, spec, fmt, out, spec.visible_fields(Role.admin))
    options = (
        ["-oo", "X_POSSIBLE_NAMES=longitude", "-oo", "Y_POSSIBLE_NAMES=latitude"]
        if fmt == "csv"
        else []
    )
    # GDAL's own command-line client, converting what it read to GeoJSON on stdout.
    converted = subprocess.run(
        ["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", *options, str(out)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    features = {f["properties"]["external_id"]: f for f in json.loads(converted)["features"]}
    assert set(features) == {"s1", "s2"}
    s1 = features["s1"]["properties"]
    assert int(s1["participants_total"]) == 10 and s1["place_name"] == "Ağdam <b>centre</b>"
    assert features["s1"]["geometry"]["coordinates"] == pytest.approx(
        [47.1234567, 40.7654321], abs=1e-9
    )


def test_soft_deleted_features_are_not_exported(conn, tmp_path, limits) -> None:
    spec = REGISTRY["outreach_sessions"]
    import_file(
        conn, spec, write_geojson(tmp_path / "in.geojson", LAYERS["outreach_sessions"]()), limits
    )
    conn.exec_driver_sql("UPDATE outreach_sessions SET deleted_at = now() WHERE external_id = 's2'")
    out = tmp_path / "out.geojson"
    assert export_layer(conn, spec, "geojson", out, spec.visible_fields(Role.admin)) == 1
    assert [f["properties"]["external_id"] for f in json.loads(out.read_text())["features"]] == [
        "s1"
    ]


def test_csv_export_with_hxl_row(conn, tmp_path, limits) -> None:
    spec = REGISTRY["outreach_sessions"]
    import_file(
        conn, spec, write_geojson(tmp_path / "in.geojson", LAYERS["outreach_sessions"]()), limits
    )
    out = tmp_path / "out.csv"
    export_layer(conn, spec, "csv", out, spec.visible_fields(Role.admin), hxl=True)
    header, tags = [line.split(",") for line in out.read_text().splitlines()[:2]]
    assert dict(zip(header, tags))["held_on"] == "#date"
    assert dict(zip(header, tags))["longitude"] == "#geo+lon"
