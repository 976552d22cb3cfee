"""HXL: our own CSV + hashtag row re-imports with nothing changed (CLI export and API export), and
an HDX-style 3W sheet of risk-education activities imports by its hashtags with a mapping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from gis.errors import InvalidInput
from gis.export import export_layer
from gis.ingest import ReadOptions, import_file, load_mapping
from gis.spec import Role
from layers import REGISTRY

from .helpers import hazard, session, square, write_geojson
from .test_writes import Api, make_api

SESSIONS = REGISTRY["outreach_sessions"]
HAZARDS = REGISTRY["hazard_areas"]


def seed(conn: sa.Connection, tmp_path: Path, limits) -> None:
    sessions = [
        session("s1", 47.0123456, 40.1, girls=3, boys=4, participants_total=7, place_name="Xıdırlı"),
        session("s2", 47.2, 40.2, audience="adults", organisation='ARCS, "Aghdam" branch'),
    ]  # fmt: skip
    import_file(conn, SESSIONS, write_geojson(tmp_path / "s.geojson", sessions), limits)
    hazards = [hazard("h1", square(47, 40)), hazard("h2", square(47.1, 40), status="suspected")]
    import_file(conn, HAZARDS, write_geojson(tmp_path / "h.geojson", hazards), limits)


@pytest.mark.parametrize("layer", ["outreach_sessions", "hazard_areas"])
def test_our_csv_with_its_hxl_row_reimports_with_no_change(conn, tmp_path, limits, layer) -> None:
    seed(conn, tmp_path, limits)
    spec = REGISTRY[layer]
    out = tmp_path / f"{layer}.csv"
    assert export_layer(conn, spec, "csv", out, spec.visible_fields(Role.admin), hxl=True) == 2
    assert out.read_text().splitlines()[1].startswith("#")
    report = import_file(conn, spec, out, limits)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 2)
    assert report.detected["hxl"] is True


@pytest.fixture
def api(settings, committed: sa.Engine) -> Iterator[Api]:
    yield from make_api(settings, committed)


def test_the_api_csv_with_hxl_uploads_back_with_no_change(api: Api, tmp_path, limits) -> None:
    with api.engine.begin() as conn:
        seed(conn, tmp_path, limits)
    editor = api.as_(Role.editor)
    csv = api.client.get("/collections/outreach_sessions/items?f=csv&hxl=true", headers=editor)
    assert csv.status_code == 200
    url = "/collections/outreach_sessions/imports"
    answer = api.client.post(url, files={"file": ("sessions.csv", csv.content)}, headers=editor)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["inserted"], body["updated"], body["unchanged"]) == (0, 0, 2)


THREE_W_HEADER = ["Activity code", "Organisation", "Activity", "District", "Village", "Start date",
                  "Girls reached", "Boys reached", "Total reached", "Latitude", "Longitude"]  # fmt: skip
THREE_W_TAGS = ["#activity+code", "#org+impl", "#activity+type", "#adm2+name", "#loc+name",
                "#date+start", "#reached+f+children", "#reached+m+children", "#reached+total",
                "#geo+lat", "#geo+lon"]  # fmt: skip
THREE_W_ROWS = [
    ["3W-1", "ARCS", "School session", "Aghdam", "Xıdırlı", dt.date(2025, 5, 6), 10, 12, 22, 40.01, 46.93],
    ["3W-2", "ICRC", "Community session", "Tartar", "Qapanlı", dt.date(2025, 5, 7), 4, 4, 30, 40.34, 46.93],
]  # fmt: skip
THREE_W_MAPPING = """
layer = "outreach_sessions"
id = "#activity+code"
[columns]
held_on = "#date+start"
place_name = "#loc+name"
[values.modality]
"School session" = "school"
"Community session" = "community"
"""


def three_w_sheet(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "3W EORE"
    for row in [THREE_W_HEADER, THREE_W_TAGS, *rows]:
        sheet.append(row)
    book.save(path)
    return path


def test_an_hdx_3w_sheet_imports_by_its_hashtags_with_a_mapping(conn, tmp_path, limits) -> None:
    (tmp_path / "3w.toml").write_text(THREE_W_MAPPING)
    read = ReadOptions(mapping=load_mapping(tmp_path / "3w.toml"))
    report = import_file(conn, SESSIONS, three_w_sheet(tmp_path / "3w.xlsx", THREE_W_ROWS), limits,
                         read=read)  # fmt: skip
    assert report.inserted == 2 and report.detected["hxl"] is True
    assert report.columns["external_id"] == "Activity code"
    assert report.columns["girls"] == "Girls reached"  # by the layer's own tag #reached+f+children
    assert report.columns["organisation"] == "Organisation"
    assert report.ignored_columns == ["District"]
    rows = conn.execute(
        sa.text(
            "SELECT external_id, held_on, modality, girls, participants_total, organisation, "
            "ST_X(geom), ST_Y(geom) FROM outreach_sessions ORDER BY external_id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("3W-1", dt.date(2025, 5, 6), "school", 10, 22, "ARCS", 46.93, 40.01),
        ("3W-2", dt.date(2025, 5, 7), "community", 4, 30, "ICRC", 46.93, 40.34),
    ]


def test_lines_of_a_sheet_with_a_hashtag_row_count_it(conn, tmp_path, limits) -> None:
    (tmp_path / "3w.toml").write_text(THREE_W_MAPPING)
    bad = [THREE_W_ROWS[0], [*THREE_W_ROWS[1][:6], 4, 4, 3, 40.34, 46.93]]  # total below the parts
    with pytest.raises(InvalidInput) as info:
        import_file(conn, SESSIONS, three_w_sheet(tmp_path / "3w.xlsx", bad), limits,
                    read=ReadOptions(mapping=load_mapping(tmp_path / "3w.toml")))  # fmt: skip
    (e,) = info.value.errors
    assert e.line == 4 and "participants_total 3 is less than" in e.reason
    assert str(e).startswith("line 4: ")
