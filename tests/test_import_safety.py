"""Imports that stay correct: concurrent overlapping imports, deleted features that stay deleted,
constraint messages without PostgreSQL's text, and CSV exports safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import struct
import threading
import zipfile
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from gis.access import create_key
from gis.errors import PayloadTooLarge
from gis.settings import Settings
from gis.spec import Role
from layers import REGISTRY

from .helpers import hazard, point_feature, session, square
from .serving import serving
from .test_writes import Api, collection, make_api

SESSIONS = "/collections/outreach_sessions/items"
FACILITIES = "/collections/facilities/items"


@pytest.fixture
def api(settings: Settings, committed: sa.Engine) -> Iterator[Api]:
    yield from make_api(settings, committed)


def test_concurrent_overlapping_imports_neither_deadlock_nor_duplicate(
    settings: Settings, committed: sa.Engine
) -> None:
    from api.app import create_app

    with committed.begin() as conn:
        key = create_key(conn, "importer", Role.editor)
    app = create_app(settings)
    statuses: list[int] = []
    ids = [f"s{i}" for i in range(300)]
    with serving(app) as base:
        for round_ in range(10):
            # The same features, in opposite orders, with different values: row locks taken in
            # opposite orders are what deadlocks two upserts.
            bodies = [
                collection(*(session(i, 47.0, 40.0, girls=round_ * 2 + k) for i in order))
                for k, order in enumerate((ids, ids[::-1]))
            ]

            def post(body: dict) -> None:
                with httpx.Client(base_url=base, timeout=60) as client:
                    url = "/collections/outreach_sessions/imports"
                    files = {"file": ("s.geojson", json.dumps(body).encode())}
                    response = client.post(url, files=files, headers={"X-API-Key": key})
                    statuses.append(response.status_code)

            threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
    app.state.engine.dispose()
    with committed.connect() as conn:
        rows, distinct = conn.execute(
            sa.text("SELECT count(*), count(DISTINCT external_id) FROM outreach_sessions")
        ).one()
        girls = set(conn.execute(sa.text("SELECT DISTINCT girls FROM outreach_sessions")).scalars())
    assert len(statuses) == 20 and set(statuses) <= {200, 201}, statuses
    assert rows == distinct == len(ids)
    assert len(girls) == 1 and girls <= {18, 19}  # every row from one of the last two imports


def test_an_import_waiting_too_long_for_another_answers_409(
    settings: Settings, committed: sa.Engine
) -> None:
    from gis.ingest.write import LOCK_NAMESPACE

    feeds = make_api(settings, committed, lock_wait_s=0.2)
    api = next(feeds)
    with committed.connect() as other:  # another import of the layer, holding its lock
        other.execute(
            sa.text("SELECT pg_advisory_xact_lock(:n, hashtext('outreach_sessions'))"),
            {"n": LOCK_NAMESPACE},
        )
        response = api.client.post(
            SESSIONS, json=session("s1", 47.0, 40.0), headers=api.as_(Role.editor)
        )
        other.rollback()
    assert response.status_code == 409
    assert "another import of the layer 'outreach_sessions'" in response.json()["description"]
    again = api.client.post(SESSIONS, json=session("s1", 47.0, 40.0), headers=api.as_(Role.editor))
    assert again.status_code == 201
    next(feeds, None)


def test_a_deleted_feature_is_not_brought_back_unless_asked(api: Api, tmp_path) -> None:
    editor = api.as_(Role.editor)
    api.client.post(SESSIONS, json=collection(session("keep", 47, 40), session("gone", 47.1, 40)),
                    headers=editor)  # fmt: skip
    gone = api.count("SELECT id FROM outreach_sessions WHERE external_id = 'gone'")
    assert api.client.delete(f"{SESSIONS}/{gone}", headers=editor).status_code == 204
    again = collection(session("keep", 47, 40), session("gone", 47.1, 40))
    refused = api.client.post(SESSIONS, json=again, headers=editor)
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["row"] == 2 and error["field"] == "external_id"
    assert "'gone' was deleted" in error["reason"] and "restore_deleted" in error["reason"]
    upload = api.client.post(
        "/collections/outreach_sessions/imports",
        files={"file": ("again.geojson", json.dumps(again).encode())},
        headers=editor,
    )
    assert upload.status_code == 422 and "was deleted" in upload.json()["description"]
    # the tombstone is still what a syncing partner sees
    tombstones = api.client.get(f"{SESSIONS}?include_deleted=true").json()["features"]
    assert [f["properties"]["external_id"] for f in tombstones if f["geometry"] is None] == ["gone"]
    restored = api.client.post(f"{SESSIONS}?restore_deleted=true", json=again, headers=editor)
    assert restored.status_code == 200 and restored.json()["updated"] == 1
    assert api.count("SELECT count(*) FROM outreach_sessions WHERE deleted_at IS NULL") == 2


def test_the_cli_refuses_a_deleted_feature_without_restore_deleted(
    committed: sa.Engine, database_url: sa.URL, tmp_path, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("SAFEGROUND_DATABASE_URL", database_url.render_as_string(False))
    path = tmp_path / "s.geojson"
    path.write_text(json.dumps(collection(session("c1", 47, 40))))
    runner = CliRunner()
    assert runner.invoke(app, ["import", "outreach_sessions", str(path)]).exit_code == 0
    with committed.begin() as conn:
        conn.exec_driver_sql("UPDATE outreach_sessions SET deleted_at = now()")
    refused = runner.invoke(app, ["import", "outreach_sessions", str(path)])
    assert refused.exit_code != 0 and "was deleted" in refused.output
    restored = runner.invoke(app, ["import", "outreach_sessions", str(path), "--restore-deleted"])
    assert restored.exit_code == 0, restored.output
    with committed.connect() as conn:
        live = conn.execute(
            sa.text("SELECT count(*) FROM outreach_sessions WHERE deleted_at IS NULL")
        ).scalar_one()
    assert live == 1


def test_a_constraint_violation_is_a_field_message_without_database_internals(api: Api) -> None:
    body = hazard("h1", square(47, 40), recorded_on="2024-05-01", status_changed_on="2024-01-01")
    response = api.client.post("/collections/hazard_areas/items", json=body,
                               headers=api.as_(Role.editor))  # fmt: skip
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error == {
        "row": None,
        "field": "status_changed_on",
        "reason": "status_changed_on must be on or after recorded_on",
    }
    text = response.text
    for internal in ("status_after_record", "violates", "Failing row", "0106000020", "SELECT"):
        assert internal not in text
    assert api.count("SELECT count(*) FROM hazard_areas") == 0


# --- CSV exports safe to open ------------------------------------------------------------------


def test_csv_exports_guard_formulas_keep_numbers_and_round_trip(api: Api) -> None:
    editor = api.as_(Role.editor)
    names = ['=HYPERLINK("http://evil.example")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Plain"]
    features = [
        point_feature(f"f{i}", 47.0 + i / 10, 40.0, facility_type="school", name=name, capacity=i)
        for i, name in enumerate(names)
    ]
    features.append(point_feature("=1+2", 47.2, 40.1, facility_type="school", name="id guard"))
    assert (
        api.client.post(FACILITIES, json=collection(*features), headers=editor).status_code == 201
    )
    exported = api.client.get(f"{FACILITIES}?f=csv").text
    rows = list(csv.DictReader(io.StringIO(exported)))
    by_id = {r["external_id"]: r for r in rows}
    with api.engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT external_id, name FROM facilities")).all())
    assert stored["f0"] == names[0] and stored["f3"] == names[3]
    for i in range(len(names)):
        name = stored[f"f{i}"]
        assert by_id[f"f{i}"]["name"] == ("'" + name if name[0] in "=+-@\t\r" else name)
        assert by_id[f"f{i}"]["capacity"] == str(i)  # numbers stay numbers
        assert not by_id[f"f{i}"]["longitude"].startswith("'")
    assert "'=1+2" in by_id
    raw = list(csv.DictReader(io.StringIO(api.client.get(f"{FACILITIES}?f=csv&raw=true").text)))
    assert {r["name"] for r in raw} == set(stored.values())
    # the guarded file re-imports unchanged: nothing updated, nothing new
    with api.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log")
    again = api.client.post("/collections/facilities/imports",
                            files={"file": ("facilities.csv", exported.encode())},
                            headers=editor)  # fmt: skip
    assert again.status_code == 200, again.text
    assert (again.json()["inserted"], again.json()["updated"]) == (0, 0)
    assert again.json()["unchanged"] == len(features)


# --- zip bombs -----------------------------------------------------------------------------------


def _bomb(path, size: int) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("layer.shp", b"\0" * size)
        archive.writestr("layer.shx", b"")
        archive.writestr("layer.dbf", b"")


def test_a_zip_bomb_is_refused_from_its_directory_before_extracting(
    conn: sa.Connection, tmp_path, monkeypatch
) -> None:
    from gis.ingest import import_file
    from gis.settings import ImportSettings

    path = tmp_path / "bomb.zip"
    _bomb(path, 50_000_000)  # under the 1 GB total, but it expands ~1000 times
    assert path.stat().st_size < 200_000

    def no_extraction(*args: object, **kwargs: object) -> None:
        raise AssertionError("a member was opened for extraction")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_extraction)
    spec = REGISTRY["outreach_sessions"]
    with pytest.raises(PayloadTooLarge, match="expands .* times"):
        import_file(conn, spec, path, ImportSettings())
    with pytest.raises(PayloadTooLarge, match="would expand to 50 MB"):
        import_file(conn, spec, path, ImportSettings(max_unzipped_mb=10))


def test_a_zip_whose_directory_lies_is_refused_not_a_500(api: Api, tmp_path) -> None:
    path = tmp_path / "liar.zip"
    _bomb(path, 3_000_000)
    data = bytearray(path.read_bytes())
    # the central directory's uncompressed size of the first member, made to claim 1 byte
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 1)
    response = api.client.post("/collections/outreach_sessions/imports",
                               files={"file": ("liar.zip", bytes(data))},
                               headers=api.as_(Role.editor))  # fmt: skip
    assert response.status_code in (413, 422), response.text
    assert "zip" in response.json()["description"]


def test_analysis_csv_guards_formula_cells_and_keeps_numbers(api: Api) -> None:
    import shapely

    from .test_analysis_geo import add

    with api.engine.begin() as conn:
        add(conn, "villages", shapely.Point(46.9, 40.0), name='=HYPERLINK("http://x")')
        add(conn, "villages", shapely.Point(46.91, 40.0), name="Plain")
    response = api.client.get("/analysis/nearest?layer=villages&lon=46.9&lat=40.0&k=2&f=csv")
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("http://x")', "Plain"]
    assert float(rows[1]["distance_m"]) > 0 and not rows[0]["lon"].startswith("'")


def test_the_cli_refuses_an_unknown_crs_with_a_message(
    committed: sa.Engine, database_url: sa.URL, tmp_path, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("SAFEGROUND_DATABASE_URL", database_url.render_as_string(False))
    path = tmp_path / "f.csv"
    path.write_text("external_id,longitude,latitude,facility_type,name\nx1,47,40,school,a\n")
    for crs in ("EPSG:999999", "+proj=foo"):
        result = CliRunner().invoke(app, ["import", "facilities", str(path), "--crs", crs])
        assert result.exit_code != 0
        assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
        assert "field 'crs'" in result.output and "PROJ knows" in result.output
