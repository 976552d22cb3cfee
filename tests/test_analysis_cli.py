"""`safeground coverage`: the API's parameters on the command line, a table, CSV and GeoJSON files."""

from __future__ import annotations

import csv
import json

import shapely
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app

from .test_analysis_geo import add, blob, box_north_of, moved

V = (46.90, 40.00)


def test_coverage_command_prints_the_ranking_and_writes_csv_and_geojson(
    committed: sa.Engine, settings, tmp_path, monkeypatch
) -> None:
    with committed.begin() as conn:
        add(conn, "districts", blob(*V, 10_000.0, vertices=24), name="Aghdam", code="AZ.AM")
        add(conn, "villages", shapely.Point(V), name="Xıdırlı", population=800)
        add(
            conn, "villages", shapely.Point(moved(*V, 90.0, 3000.0)), name="Kəngərli", population=90
        )
        add(conn, "hazard_areas", box_north_of(*V, 600.0))
    monkeypatch.setenv("SAFEGROUND_DATABASE_URL", settings.database.url)
    monkeypatch.setenv("COLUMNS", "200")
    out_csv, out_json = tmp_path / "c.csv", tmp_path / "c.geojson"
    result = CliRunner().invoke(
        app,
        [
            "coverage",
            "--district",
            "AZ.AM",
            "--since",
            "2025-01-01",
            "--until",
            "2025-12-31",
            "--csv",
            str(out_csv),
            "--geojson",
            str(out_json),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "Xıdırlı" in result.output
        and "2 at risk" in result.output
        and "does NOT mean" in result.output
    )
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    assert [r["name"] for r in rows] == ["Xıdırlı", "Kəngərli"] and rows[0]["district"] == "Aghdam"
    geojson = json.loads(out_json.read_text(encoding="utf-8"))
    assert geojson["type"] == "FeatureCollection" and geojson["summary"]["uncovered"] == 2


def test_coverage_command_names_a_bad_parameter_and_fails(
    committed: sa.Engine, settings, monkeypatch
) -> None:
    monkeypatch.setenv("SAFEGROUND_DATABASE_URL", settings.database.url)
    result = CliRunner().invoke(app, ["coverage", "--district", "Atlantis"])
    assert result.exit_code == 1 and "unknown district 'Atlantis'" in result.output
