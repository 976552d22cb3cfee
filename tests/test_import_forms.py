"""KoBoToolbox and ODK Central exports as they come: `;` CSV with group names, XLSX with a repeat
sheet, `_geolocation` and geopoint strings, form ids, datetimes with offsets."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from gis.errors import InvalidInput
from gis.ingest import ReadOptions, import_file, load_mapping
from layers import REGISTRY

SESSIONS = REGISTRY["outreach_sessions"]

KOBO_HEADER = [
    "start", "end", "deviceid", "grp_session/held_on", "grp_session/place_name",
    "grp_session/audience", "grp_participants/girls", "grp_participants/boys",
    "grp_participants/participants_total", "_geolocation", "_id", "_uuid", "_submission_time",
    "_validation_status", "__version__",
]  # fmt: skip
KOBO_ROWS = [
    ["2025-03-15T09:01:00.000+04:00", "2025-03-15T09:40:00.000+04:00", "ee:1",
     "2025-03-15T01:30:00.000+04:00", "Xıdırlı", "children", "12", "9", "21", "[40.0, 46.9]",
     "101", "5a1c-01", "2025-03-15T06:00:00", "", "vA"],
    ["2025-03-16T09:01:00.000+04:00", "2025-03-16T09:40:00.000+04:00", "ee:1",
     "2025-03-16", "Kəngərli", "School children", "4", "5", "9", "[40.05, 46.95]",
     "102", "5a1c-02", "2025-03-16T06:00:00", "", "vA"],
]  # fmt: skip


def write_kobo_csv(path: Path, header: list[str], rows: list[list[str]], sep: str = ";") -> Path:
    lines = [sep.join(header), *(sep.join(r) for r in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(conn: sa.Connection, columns: str) -> list[tuple]:
    return [
        tuple(r)
        for r in conn.execute(
            sa.text(f"SELECT {columns} FROM outreach_sessions ORDER BY external_id")
        )
    ]


def test_kobo_semicolon_csv_with_groups_imports_and_says_what_it_detected(
    conn, tmp_path, limits
) -> None:
    path = write_kobo_csv(tmp_path / "eore.csv", KOBO_HEADER, KOBO_ROWS)
    report = import_file(conn, SESSIONS, path, limits)
    assert report.inserted == 2
    assert report.detected["delimiter"] == "semicolon"
    assert report.detected["encoding"] == "UTF-8"
    assert "_geolocation" in str(report.detected["geometry"])
    assert report.columns["held_on"] == "grp_session/held_on"
    assert report.columns["external_id"] == "_uuid"
    assert {"start", "deviceid", "_submission_time", "_id"} <= set(report.ignored_columns)
    rows = stored(conn, "external_id, held_on, audience, girls, ST_X(geom), ST_Y(geom)")
    # 01:30 at +04:00 is still the 15th where the session was held (the 14th in UTC)
    assert rows == [
        ("5a1c-01", dt.date(2025, 3, 15), "children", 12, 46.9, 40.0),
        ("5a1c-02", dt.date(2025, 3, 16), "children", 4, 46.95, 40.05),
    ]


def test_odk_central_csv_with_dash_groups_geopoint_and_instance_id(conn, tmp_path, limits) -> None:
    header = ["SubmissionDate", "grp-held_on", "grp-location", "meta-instanceID", "KEY"]
    rows = [
        ["2025-03-15T10:00:00.000Z", "2025-03-15", "40.1 47.3 512.0 4.5", "uuid:aa", "uuid:aa"],
        ["2025-03-15T10:00:00.000Z", "2025-03-14", "40.2 47.4 0 5", "uuid:bb", "uuid:bb"],
    ]
    path = write_kobo_csv(tmp_path / "odk.csv", header, rows, sep=",")
    report = import_file(conn, SESSIONS, path, limits)
    assert report.inserted == 2 and report.detected["delimiter"] == "comma"
    assert report.columns["external_id"] == "meta-instanceID"
    assert "geopoint" in str(report.detected["geometry"])
    assert stored(conn, "external_id, ST_X(geom), ST_Y(geom)") == [
        ("uuid:aa", 47.3, 40.1),
        ("uuid:bb", 47.4, 40.2),
    ]


def test_two_groups_ending_in_the_same_field_name_are_named_in_the_refusal(
    conn, tmp_path, limits
) -> None:
    header = ["grp_a/held_on", "grp_b/held_on", "_geolocation", "_uuid"]
    path = write_kobo_csv(
        tmp_path / "two.csv", header, [["2025-01-01", "2025-01-02", "[40, 47]", "u1"]]
    )
    with pytest.raises(InvalidInput) as info:
        import_file(conn, SESSIONS, path, limits)
    (e,) = info.value.errors
    assert e.field == "held_on"
    assert "`grp_a/held_on`" in e.reason and "`grp_b/held_on`" in e.reason
    assert "--mapping" in e.reason


def kobo_workbook(path: Path) -> Path:
    """A KoBoToolbox XLSX export of the EORE form: cells typed, a repeat group on its own sheet."""
    book = openpyxl.Workbook()
    main = book.active
    assert main is not None
    main.title = "EORE session form"
    main.append(
        ["start", "session/session_date", "session/village", "session/audience_type",
         "session/delivery", "participants/girls_n", "participants/boys_n",
         "participants/total_n", "_gps_latitude", "_gps_longitude", "_gps_altitude",
         "_gps_precision", "_id", "_uuid", "_index"]
    )  # fmt: skip
    main.append(
        [dt.datetime(2025, 4, 2, 9, 15), dt.date(2025, 4, 2), "Şıxlı", "school_children",
         "school_session", 14, 11, 25, 40.1234567, 46.7654321, 0, 5, 301, "k-301", 1]
    )  # fmt: skip
    main.append(
        [dt.datetime(2025, 4, 3, 9, 15), dt.date(2025, 4, 3), "Qaraçanlı", "mixed_group",
         "door_to_door", 3, 2, 12, 40.2, 46.8, 0, 5, 302, "k-302", 2]
    )  # fmt: skip
    repeat = book.create_sheet("facilitators")
    repeat.append(["name", "_parent_index", "_submission__uuid"])
    for i in range(3):
        repeat.append([f"facilitator {i}", 1, "k-301"])
    book.save(path)
    return path


def test_kobo_xlsx_with_a_repeat_sheet_imports_the_first_sheet_and_names_the_other(
    conn, tmp_path, limits
) -> None:
    path = kobo_workbook(tmp_path / "eore.xlsx")
    read = ReadOptions(mapping=load_mapping("kobo_eore_sessions"))
    report = import_file(conn, SESSIONS, path, limits, read=read)
    assert report.inserted == 2
    assert report.detected["format"] == "Excel workbook"
    assert report.detected["sheet"] == "EORE session form"
    assert report.detected["sheets_not_imported"] == ["facilitators (3 rows)"]
    assert any("facilitators" in w for w in report.warnings)
    assert report.columns["held_on"] == "session/session_date"
    assert stored(
        conn, "external_id, held_on, place_name, audience, modality, girls, participants_total, "
        "ST_X(geom), ST_Y(geom)"
    ) == [
        ("k-301", dt.date(2025, 4, 2), "Şıxlı", "children", "school", 14, 25, 46.7654321, 40.1234567),
        ("k-302", dt.date(2025, 4, 3), "Qaraçanlı", "mixed", "door_to_door", 3, 12, 46.8, 40.2),
    ]  # fmt: skip


def test_a_sheet_that_is_not_there_is_named_with_the_sheets_there_are(
    conn, tmp_path, limits
) -> None:
    path = kobo_workbook(tmp_path / "eore.xlsx")
    with pytest.raises(InvalidInput) as info:
        import_file(conn, SESSIONS, path, limits, read=ReadOptions(sheet="sessions"))
    assert "no sheet `sessions`" in info.value.message
    assert "EORE session form, facilitators" in info.value.message
    assert "--sheet" in info.value.message


def test_the_repeat_sheet_chosen_by_name_is_refused_for_its_missing_geometry(
    conn, tmp_path, limits
) -> None:
    path = kobo_workbook(tmp_path / "eore.xlsx")
    with pytest.raises(InvalidInput) as info:
        import_file(conn, SESSIONS, path, limits, read=ReadOptions(sheet="facilitators"))
    message = info.value.message
    assert "has no geometry" in message and "_geolocation" in message
    assert "`name`, `_parent_index`, `_submission__uuid`" in message
