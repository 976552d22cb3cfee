"""CSV (with the HXL row) and GeoPackage downloads: the filtered features, re-importable unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from gis.ingest import import_file
from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_client_fixture, demo_fixture, headers, sql_count  # noqa: F401


def test_csv_has_coordinates_and_an_hxl_row_when_asked(demo: Demo, demo_client) -> None:
    response = demo_client.get(
        "/collections/outreach_sessions/items?f=csv&hxl=true&modality=school"
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="outreach_sessions.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    header, tags = rows[0], rows[1]
    assert header[:3] == ["external_id", "longitude", "latitude"]
    assert dict(zip(header, tags))["held_on"] == "#date" and tags[1] == "#geo+lon"
    expected = sql_count(
        demo,
        "SELECT count(*) FROM outreach_sessions WHERE deleted_at IS NULL AND modality = 'school'",
    )
    assert len(rows) - 2 == expected
    plain = list(
        csv.reader(
            io.StringIO(
                demo_client.get("/collections/outreach_sessions/items?f=csv&modality=school").text
            )
        )
    )
    assert len(plain) - 1 == expected


def test_polygon_csv_has_a_wkt_column(demo: Demo, demo_client) -> None:
    text = demo_client.get("/collections/districts/items?f=csv&limit=3").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and rows[0]["wkt"].startswith("MULTIPOLYGON")


@pytest.mark.parametrize(
    ("layer", "fmt"),
    [("villages", "csv"), ("villages", "gpkg"), ("hazard_areas", "csv"), ("hazard_areas", "gpkg")],
)
def test_downloads_reimport_to_the_same_rows(
    demo: Demo, demo_client, conn: sa.Connection, limits, tmp_path: Path, layer, fmt
) -> None:
    response = demo_client.get(
        f"/collections/{layer}/items?f={fmt}&limit=40", headers=headers(demo, Role.admin)
    )
    assert response.status_code == 200
    path = tmp_path / f"{layer}.{fmt}"
    path.write_bytes(response.content)
    report = import_file(conn, REGISTRY[layer], path, limits)
    assert (report.rows, report.inserted) == (40, 40)
    spec = REGISTRY[layer]
    columns = ", ".join(["external_id", "source", *spec.property_names, "ST_AsText(geom)"])
    query = sa.text(f"SELECT {columns} FROM {layer} ORDER BY external_id")
    mine = [tuple(r) for r in conn.execute(query)]
    with demo.engine.connect() as theirs:
        ids = [r[0] for r in mine]
        source = [tuple(r) for r in theirs.execute(sa.text(
            f"SELECT {columns} FROM {layer} WHERE external_id = ANY(:ids) ORDER BY external_id"), {"ids": ids})]  # fmt: skip
    assert mine == source


def test_gpkg_download_is_the_filtered_layer(demo: Demo, demo_client, tmp_path: Path) -> None:
    import pyogrio

    response = demo_client.get("/collections/villages/items?f=gpkg&bbox=46.8,39.8,47.3,40.3")
    assert response.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "v.gpkg"
    path.write_bytes(response.content)
    [(name, geometry_type)] = pyogrio.list_layers(path)
    assert (name, geometry_type) == ("villages", "Point")
    expected = sql_count(demo, "SELECT count(*) FROM villages WHERE deleted_at IS NULL AND "
                         "ST_Intersects(geom, ST_MakeEnvelope(46.8,39.8,47.3,40.3,4326))")  # fmt: skip
    assert pyogrio.read_info(path)["features"] == expected


def test_exports_are_audited_with_their_filters(demo: Demo, demo_client) -> None:
    demo_client.get(
        "/collections/facilities/items?f=csv&facility_type=school",
        headers=headers(demo, Role.staff),
    )
    with demo.engine.connect() as conn:
        entry = conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    assert (entry.actor, entry.action, entry.layer) == ("test staff", "export_csv", "facilities")
    # A whole-layer file also names the file served (its ETag) and whether it was built for it.
    assert entry.detail.pop("etag").startswith('"') and entry.detail.pop("cached") in (True, False)
    assert entry.detail == {"facility_type": ["school"]}
    assert entry.feature_count == sql_count(
        demo,
        "SELECT count(*) FROM facilities WHERE facility_type = 'school' AND deleted_at IS NULL",
    )
