"""Refusals that point the right way: spreadsheet lines and columns, echoed values, what the
geometry search looked for and found; the CLI and the upload API with the reading options."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from api.cli_db import choose_database
from gis.errors import InvalidInput
from gis.ingest import ReadOptions, import_file
from gis.spec import Role
from layers import REGISTRY

from .test_import_forms import KOBO_HEADER, KOBO_ROWS, write_kobo_csv
from .test_writes import Api, make_api

HAZARDS = REGISTRY["hazard_areas"]
SESSIONS = REGISTRY["outreach_sessions"]
WKT = '"POLYGON((47 40,47.01 40,47.01 40.01,47 40))"'


def hazards_csv(path: Path, statuses: list[str]) -> Path:
    lines = ["external_id,wkt,hazard_type,status,recorded_on"]
    lines += [f"h{i},{WKT},AP mine,{s},2022-01-01" for i, s in enumerate(statuses)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_bad_value_on_the_fourth_row_is_line_5_column_status(conn, tmp_path, limits) -> None:
    path = hazards_csv(tmp_path / "h.csv", ["CHA", "SHA", "confirmed", "maybe"])
    with pytest.raises(InvalidInput) as info:
        import_file(conn, HAZARDS, path, limits)
    (e,) = info.value.errors
    assert (e.row, e.line, e.column) == (4, 5, "status")
    assert str(e).startswith("line 5, column `status`: `maybe` is not one of the allowed values")
    assert conn.execute(sa.text("SELECT count(*) FROM hazard_areas")).scalar_one() == 0


def test_an_unreadable_geometry_is_echoed(conn, tmp_path, limits) -> None:
    path = tmp_path / "g.csv"
    path.write_text(
        "external_id;lon;lat;held_on\na;47,1;40,1;2025-01-01\nb;forty;40,2;2025-01-01\n"
    )
    with pytest.raises(InvalidInput) as info:
        import_file(conn, SESSIONS, path, limits)
    (e,) = info.value.errors
    assert (e.line, e.column) == (3, "lon, lat") and "`forty 40,2`" in e.reason


def test_no_geometry_says_what_was_looked_for_and_what_was_found(conn, tmp_path, limits) -> None:
    path = write_kobo_csv(tmp_path / "k.csv", ["_uuid", "grp/held_on", "grp/village"],
                          [["u1", "2025-01-01", "Xıdırlı"]])  # fmt: skip
    with pytest.raises(InvalidInput) as info:
        import_file(conn, SESSIONS, path, limits)
    message = info.value.message
    assert "looked for a WKT column" in message and "_geolocation" in message
    assert "found the columns: `_uuid`, `grp/held_on`, `grp/village`" in message
    with pytest.raises(InvalidInput) as info:  # the wrong delimiter, given by hand
        import_file(conn, SESSIONS, path, limits, read=ReadOptions(delimiter=","))
    assert "is the delimiter right?" in info.value.message


def test_cli_import_takes_the_options_and_prints_what_it_detected(
    committed: sa.Engine, settings, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("SAFEGROUND_DATABASE_URL", settings.database.url)
    monkeypatch.setenv("COLUMNS", "300")
    path = write_kobo_csv(tmp_path / "eore.csv", KOBO_HEADER, KOBO_ROWS)
    args = ["import", "outreach_sessions", str(path), "--delimiter", ";", "--dayfirst"]
    result = CliRunner().invoke(app, [*args, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "2 would be inserted" in result.output
    assert "delimiter semicolon" in result.output and "encoding UTF-8" in result.output
    assert "held_on ← grp_session/held_on" in result.output
    result = CliRunner().invoke(app, [*args, "--json"])
    assert json.loads(result.stdout)["columns"]["external_id"] == "_uuid"
    bad = CliRunner().invoke(app, ["import", "outreach_sessions", str(path), "--mapping", "nope"])
    assert bad.exit_code == 1 and "kobo_eore_sessions" in bad.output


def test_the_cli_finds_the_checkouts_cluster_without_the_variable(tmp_path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "pgcluster.sh").write_text("#!/bin/sh\n")
    (tmp_path / "var" / "pg").mkdir(parents=True)
    (tmp_path / "var" / "pg" / "port").write_text("54999\n")
    inside = tmp_path / "data" / "mine"
    inside.mkdir(parents=True)
    choice = choose_database(inside, environ={})
    assert choice.url == "postgresql+psycopg://postgres@127.0.0.1:54999/safeground"
    assert str(tmp_path) in choice.how
    given = choose_database(inside, environ={"SAFEGROUND_DATABASE_URL": "postgresql://x@h/db"})
    assert given.url == "postgresql://x@h/db"


def test_the_cli_says_in_one_paragraph_why_it_cannot_connect(tmp_path) -> None:
    exe = Path(sys.executable).parent / "safeground"
    env = {**os.environ, "SAFEGROUND_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"}
    done = subprocess.run([str(exe), "layers"], env=env, capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    (paragraph,) = done.stderr.strip().splitlines()
    assert (
        "could not connect to the database at postgresql+psycopg://postgres@127.0.0.1:1/x"
        in paragraph
    )
    assert "SAFEGROUND_DATABASE_URL" in paragraph and "make db" in paragraph


@pytest.fixture
def api(settings, committed: sa.Engine) -> Iterator[Api]:
    yield from make_api(settings, committed)


def test_the_upload_api_takes_the_same_reading_options(api: Api, tmp_path) -> None:
    editor = api.as_(Role.editor)
    url = "/collections/outreach_sessions/imports"
    data = write_kobo_csv(tmp_path / "eore.csv", KOBO_HEADER, KOBO_ROWS).read_bytes()
    answer = api.client.post(
        f"{url}?dry_run=true&delimiter=;&encoding=utf-8&decimal=.&dayfirst=true",
        files={"file": ("eore.csv", data)}, headers=editor,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["detected"]["delimiter"] == "semicolon"
    assert answer.json()["columns"]["held_on"] == "grp_session/held_on"
    unknown = api.client.post(f"{url}?mapping=../../etc/passwd",
                              files={"file": ("eore.csv", data)}, headers=editor)  # fmt: skip
    assert unknown.status_code == 422 and "kobo_eore_sessions" in unknown.json()["description"]
    broken = api.client.post(url, files={"file": ("h.csv", b"external_id,status\nh1,maybe\n")},
                             headers=editor)  # fmt: skip
    assert broken.status_code == 422 and "looked for" in broken.json()["description"]
    bad_row = api.client.post(
        "/collections/hazard_areas/imports",
        files={"file": ("h.csv", hazards_csv(tmp_path / "h.csv", ["CHA", "maybe"]).read_bytes())},
        headers=editor,
    )
    (e,) = bad_row.json()["errors"]
    assert (e["line"], e["column"], e["row"]) == (3, "status", 2) and "`maybe`" in e["reason"]
    assert api.count("SELECT count(*) FROM outreach_sessions") == 0
    assert api.count("SELECT count(*) FROM hazard_areas") == 0
