"""OpenDocument spreadsheets, form ids, and refusals of a mapped GeoPackage naming its column."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from gis.errors import InvalidInput
from gis.ingest import ReadOptions, import_file, load_mapping
from layers import REGISTRY

from .test_import_forms import write_kobo_csv
from .test_import_vocabulary import imsma_geopackage

SESSIONS = REGISTRY["outreach_sessions"]
NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)

MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _cell(v: object) -> str:
    if isinstance(v, int | float):
        return f'<table:table-cell office:value-type="float" office:value="{v}"/>'
    if isinstance(v, dt.date):
        return f'<table:table-cell office:value-type="date" office:date-value="{v.isoformat()}"/>'
    return f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'


def write_ods(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A minimal OpenDocument spreadsheet (what LibreOffice saves, without styles)."""
    body = "".join(
        f'<table:table table:name="{name}">'
        + "".join(
            f"<table:table-row>{''.join(_cell(v) for v in r)}</table:table-row>" for r in rows
        )
        + "</table:table>"
        for name, rows in sheets.items()
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS} office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body>"
        "</office:document-content>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", MANIFEST)
        archive.writestr("content.xml", content)
    return path


def test_an_ods_sheet_imports_with_typed_cells(conn, tmp_path, limits) -> None:
    rows = [["external_id", "held_on", "longitude", "latitude", "girls", "place_name"],
            ["o1", dt.date(2025, 1, 2), 47.1, 40.2, 3, 1905]]  # fmt: skip
    path = write_ods(tmp_path / "s.ods", {"sessions": rows, "notes": [["a"], ["b"]]})
    report = import_file(conn, SESSIONS, path, limits)
    assert report.detected["format"] == "OpenDocument spreadsheet"
    assert report.detected["sheets_not_imported"] == ["notes (1 rows)"]
    row = conn.execute(
        sa.text("SELECT held_on, girls, place_name, ST_X(geom) FROM outreach_sessions")
    ).one()
    assert tuple(row) == (dt.date(2025, 1, 2), 3, "1905", 47.1)  # a number-typed name is text


def test_kobo_numeric_id_is_the_id_when_there_is_no_uuid(conn, tmp_path, limits) -> None:
    path = write_kobo_csv(
        tmp_path / "k.csv", ["_id", "held_on", "_geolocation"], [["7", "2025-01-01", "[40, 47]"]]
    )
    report = import_file(conn, SESSIONS, path, limits)
    assert report.columns["external_id"] == "_id"
    assert conn.execute(sa.text("SELECT external_id FROM outreach_sessions")).scalar_one() == "7"


def test_a_mapped_geopackage_value_is_refused_by_its_own_column_name(
    conn, tmp_path, limits
) -> None:
    path = imsma_geopackage(tmp_path / "h.gpkg", ["CHA", "Dangerous"], ["AP mine", "AP mine"])
    with pytest.raises(InvalidInput) as info:
        import_file(conn, REGISTRY["hazard_areas"], path, limits,
                    read=ReadOptions(mapping=load_mapping("imsma_hazards")))  # fmt: skip
    (e,) = info.value.errors
    assert (e.row, e.column, e.field) == (2, "hazard_type", "status")
    assert str(e).startswith("row 2, column `hazard_type` (field 'status'): `Dangerous` is not")
