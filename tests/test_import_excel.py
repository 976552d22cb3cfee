"""CSV as Excel saves it in the region: Windows-1254 or -1251, `;`, decimal commas, day-first
dates, a BOM; and the messages when one of those cannot be told from the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from gis.errors import InvalidInput
from gis.ingest import ReadOptions, import_file
from gis.ingest.mapping import parse_mapping
from layers import REGISTRY

SESSIONS = REGISTRY["outreach_sessions"]
AZ_MAPPING = parse_mapping(
    "az_sessions",
    {
        "id": "Kod",
        "columns": {"held_on": "Tarix", "place_name": "Yer adı", "girls": "Qızlar",
                    "boys": "Oğlanlar", "participants_total": "Cəmi"},
        "geometry": {"lon": "Uzunluq", "lat": "Enlik"},
    },
)  # fmt: skip
# Azerbaijani headers Windows-1254 can hold (it has no ə: Excel writes Cəmi as "C?mi", so the
# mapping's `Cəmi` is absent and the total column is named in ASCII here).
HEADER = "Kod;Tarix;Yer adı;Qızlar;Oğlanlar;Cemi;Uzunluq;Enlik"
ROWS = [
    "AZ-1;15.03.2025;Şıxlı;12;9;21;46,9012345;40,0123456",
    "AZ-2;16.03.2025;Qaraçanlı;4;5;9;46,95;40,05",
    "AZ-3;17/03/2025;Güzgülü;1;1;2;47,1;40,1",
]


def excel_csv(path: Path, lines: list[str], encoding: str = "cp1254", bom: bool = False) -> Path:
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def test_windows_1254_csv_with_decimal_commas_and_day_first_dates(conn, tmp_path, limits) -> None:
    path = excel_csv(tmp_path / "sessiyalar.csv", [HEADER, *ROWS])
    report = import_file(conn, SESSIONS, path, limits, read=ReadOptions(mapping=AZ_MAPPING))
    assert report.inserted == 3
    assert report.detected["encoding"] == "Windows-1254 (detected)"
    assert report.detected["delimiter"] == "semicolon"
    assert report.detected["decimal"] == ","
    assert "Cemi" in report.ignored_columns
    assert any("`Cəmi`" in w for w in report.warnings)
    rows = conn.execute(
        sa.text(
            "SELECT external_id, held_on, place_name, girls, ST_X(geom), ST_Y(geom) "
            "FROM outreach_sessions ORDER BY external_id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("AZ-1", dt.date(2025, 3, 15), "Şıxlı", 12, 46.9012345, 40.0123456),
        ("AZ-2", dt.date(2025, 3, 16), "Qaraçanlı", 4, 46.95, 40.05),
        ("AZ-3", dt.date(2025, 3, 17), "Güzgülü", 1, 47.1, 40.1),
    ]


def test_utf8_with_bom_and_windows_1251_are_told_apart(conn, tmp_path, limits) -> None:
    bom = excel_csv(tmp_path / "bom.csv", [HEADER, ROWS[0]], encoding="utf-8", bom=True)
    report = import_file(conn, SESSIONS, bom, limits, read=ReadOptions(mapping=AZ_MAPPING))
    assert report.detected["encoding"] == "UTF-8 with BOM"
    assert report.columns["external_id"] == "Kod"  # the BOM is not part of the first header
    russian = parse_mapping(
        "ru",
        {"id": "Код", "columns": {"held_on": "Дата", "place_name": "Село"},
         "geometry": {"lon": "Долгота", "lat": "Широта"}},
    )  # fmt: skip
    lines = ["Код;Дата;Село;Долгота;Широта", "RU-1;01.02.2025;Агдам, школа №2;46,93;40,01"]
    cyrillic = excel_csv(tmp_path / "ru.csv", lines, encoding="cp1251")
    report = import_file(conn, SESSIONS, cyrillic, limits, read=ReadOptions(mapping=russian))
    assert report.detected["encoding"] == "Windows-1251 (detected)"
    place = conn.execute(
        sa.text("SELECT place_name FROM outreach_sessions WHERE external_id = 'RU-1'")
    ).scalar_one()
    assert place == "Агдам, школа №2"


def test_explicit_options_override_detection(conn, tmp_path, limits) -> None:
    lines = ["external_id\tlongitude\tlatitude\theld_on", "t1\t47.0\t40.0\t03/04/2025"]
    path = tmp_path / "tabs.txt"
    path.write_bytes("\n".join(lines).encode("utf-8"))
    options = ReadOptions(delimiter="tab", encoding="utf-8", decimal=".", dayfirst=False)
    report = import_file(conn, SESSIONS, path, limits, read=options)
    assert report.detected["delimiter"] == "tab" and report.detected["encoding"] == "utf-8 (given)"
    held = conn.execute(sa.text("SELECT held_on FROM outreach_sessions")).scalar_one()
    assert held == dt.date(2025, 3, 4)  # month first, as told


def rejected(conn, path: Path, limits, **read) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        import_file(conn, SESSIONS, path, limits, read=ReadOptions(**read))
    assert conn.execute(sa.text("SELECT count(*) FROM outreach_sessions")).scalar_one() == 0
    return info.value


def test_dates_that_could_be_either_order_ask_for_dayfirst(conn, tmp_path, limits) -> None:
    lines = ["external_id,longitude,latitude,held_on", "a,47,40,03/04/2025", "b,47,40,05/06/2025"]
    path = tmp_path / "amb.csv"
    path.write_text("\n".join(lines))
    err = rejected(conn, path, limits)
    (e,) = err.errors
    assert e.field == "held_on" and "`03/04/2025`" in e.reason and "--dayfirst" in e.reason
    report = import_file(conn, SESSIONS, path, limits, read=ReadOptions(dayfirst=True))
    assert report.inserted == 2


def test_an_impossible_date_is_echoed_with_its_line_and_column(conn, tmp_path, limits) -> None:
    lines = [HEADER, ROWS[0], "AZ-9;31.02.2025;Şıxlı;1;1;2;46,9;40,0"]
    err = rejected(conn, excel_csv(tmp_path / "bad.csv", lines), limits, mapping=AZ_MAPPING)
    (e,) = err.errors
    assert (e.line, e.column, e.field) == (3, "Tarix", "held_on")
    assert str(e).startswith("line 3, column `Tarix` (field 'held_on'): `31.02.2025`")


def test_a_wrong_encoding_given_is_said_plainly(conn, tmp_path, limits) -> None:
    path = excel_csv(tmp_path / "x.csv", [HEADER, ROWS[0]])
    err = rejected(conn, path, limits, encoding="utf-8", mapping=AZ_MAPPING)
    assert "is not valid utf-8" in err.message and "check the encoding" in err.message
    assert "codec" not in err.message


def test_empty_lines_are_skipped_and_lines_keep_their_numbers(conn, tmp_path, limits) -> None:
    lines = [
        HEADER,
        ROWS[0],
        "",
        ROWS[1],
        "AZ-9;32.01.2025;Şıxlı;1;1;2;46,9;40,0",
        ";;;;;;;",
        ";;;;;;;",
    ]
    err = rejected(conn, excel_csv(tmp_path / "gaps.csv", lines), limits, mapping=AZ_MAPPING)
    (e,) = err.errors
    assert (e.line, e.column) == (5, "Tarix") and "`32.01.2025`" in e.reason
    report = import_file(
        conn, SESSIONS, excel_csv(tmp_path / "ok.csv", lines[:4] + lines[5:]), limits,
        read=ReadOptions(mapping=AZ_MAPPING),
    )  # fmt: skip
    assert report.rows == 2
