"""Writes through the API (editor role): POST, PUT, DELETE, file imports, audit, incremental sync."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from gis.access import create_key
from gis.settings import ApiSettings, ImportSettings, Settings
from gis.spec import Role

from .helpers import hazard, point_feature, session, square

SESSIONS = "/collections/outreach_sessions/items"


@dataclass
class Api:
    client: TestClient
    engine: sa.Engine
    keys: dict[Role, str]

    def as_(self, role: Role) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]} if role in self.keys else {}

    def count(self, sql: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(sql)).scalar_one())

    def audit(self) -> list[dict]:
        with self.engine.connect() as conn:
            return [
                dict(r._mapping)
                for r in conn.execute(sa.text("SELECT * FROM audit_log ORDER BY id"))
            ]


def make_api(settings: Settings, engine: sa.Engine, **imports: object) -> Iterator[Api]:
    settings = settings.model_copy(
        update={"api": ApiSettings(key_cache_seconds=0), "imports": ImportSettings(**imports)}  # type: ignore[arg-type]
    )
    with engine.begin() as conn:
        keys = {
            role: create_key(conn, f"{role.name} key", role)
            for role in (Role.partner, Role.staff, Role.editor)
        }
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            yield Api(client, engine, keys)
    finally:
        app.state.engine.dispose()
        with engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM audit_log; DELETE FROM api_keys")


@pytest.fixture
def api(settings: Settings, committed: sa.Engine) -> Iterator[Api]:
    yield from make_api(settings, committed)


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def test_writes_need_an_editor_key_before_anything_else(api: Api) -> None:
    body = collection(session("s1", 47.0, 40.0))
    assert api.client.post(SESSIONS, json=body).status_code == 401
    assert api.client.post("/collections/nope/items", json=body).status_code == 401
    for role in (Role.partner, Role.staff):
        response = api.client.post(SESSIONS, json=body, headers=api.as_(role))
        assert response.status_code == 403 and response.json()["code"] == "Forbidden"
    assert (
        api.client.post(
            "/collections/nope/items", json=body, headers=api.as_(Role.editor)
        ).status_code
        == 404
    )
    assert api.client.delete(f"{SESSIONS}/1").status_code == 401
    assert (
        api.client.put(
            f"{SESSIONS}/1", json=body["features"][0], headers=api.as_(Role.staff)
        ).status_code
        == 403
    )
    assert api.count("SELECT count(*) FROM outreach_sessions") == 0
    assert api.audit() == []


def test_post_a_feature_creates_it_with_a_location_and_an_audit_entry(api: Api) -> None:
    response = api.client.post(
        SESSIONS, json=session("s1", 47.0, 40.0, girls=2, boys=3), headers=api.as_(Role.editor)
    )
    assert response.status_code == 201, response.text
    assert response.json()["inserted"] == 1
    created = api.client.get(response.headers["location"]).json()
    assert created["properties"]["external_id"] == "s1" and created["properties"]["girls"] == 2
    [entry] = api.audit()
    assert (entry["actor"], entry["action"], entry["layer"], entry["feature_count"]) == (
        "editor key",
        "create",
        "outreach_sessions",
        1,
    )


def test_invalid_features_are_refused_whole_with_per_feature_errors(api: Api) -> None:
    body = collection(
        session("ok", 47.0, 40.0),
        session("bad-enum", 47.0, 40.0, modality="helicopter"),
        session("future", 47.0, 40.0, held_on="2999-01-01"),
        session("swapped", 40.0, 47.0),
    )
    response = api.client.post(SESSIONS, json=body, headers=api.as_(Role.editor))
    assert response.status_code == 422
    problems = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert {(2, "modality"), (3, "held_on"), (4, "geometry")} <= problems
    assert api.count("SELECT count(*) FROM outreach_sessions") == 0
    assert api.audit() == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"type": "Point", "coordinates": [1, 2]}', b'{"type": "FeatureCollection"}',
     b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": "x"}, "properties": {}}]}',
     b'{"type": "FeatureCollection", "features": [42]}', b'{"type": "Feature", "geometry": null, "properties": []}',
     b'{"type": "FeatureCollection", "features": []}'],
)  # fmt: skip
def test_a_body_that_is_not_geojson_is_422(api: Api, body: bytes) -> None:
    response = api.client.post(
        SESSIONS,
        content=body,
        headers={**api.as_(Role.editor), "Content-Type": "application/geo+json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "InvalidInput"


def test_dry_run_validates_and_writes_nothing(api: Api) -> None:
    response = api.client.post(
        f"{SESSIONS}?dry_run=true",
        json=collection(session("s1", 47.0, 40.0)),
        headers=api.as_(Role.editor),
    )
    assert response.status_code == 200 and response.json()["dry_run"] is True
    assert api.count("SELECT count(*) FROM outreach_sessions") == 0


def test_put_replaces_properties_and_geometry_and_keeps_the_external_id(api: Api) -> None:
    editor = api.as_(Role.editor)
    api.client.post(
        SESSIONS, json=session("s1", 47.0, 40.0, girls=2, place_name="Old"), headers=editor
    )
    feature_id = api.count("SELECT id FROM outreach_sessions")
    replaced = api.client.put(
        f"{SESSIONS}/{feature_id}", json=session("s1", 47.1, 40.1, boys=5), headers=editor
    )
    assert replaced.status_code == 200, replaced.text
    props = replaced.json()["properties"]
    assert props["boys"] == 5 and props["girls"] is None and props["place_name"] is None
    assert replaced.json()["geometry"]["coordinates"] == [47.1, 40.1]
    no_id = session("ignored", 47.2, 40.2)
    del no_id["properties"]["external_id"]
    assert api.client.put(f"{SESSIONS}/{feature_id}", json=no_id, headers=editor).status_code == 200
    other = api.client.put(
        f"{SESSIONS}/{feature_id}", json=session("s2", 47.0, 40.0), headers=editor
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "external_id"
    assert (
        api.client.put(
            f"{SESSIONS}/999999", json=session("s1", 47.0, 40.0), headers=editor
        ).status_code
        == 404
    )
    assert [e["action"] for e in api.audit()] == ["create", "replace", "replace"]


def test_delete_is_soft_and_then_the_feature_is_gone(api: Api) -> None:
    editor = api.as_(Role.editor)
    api.client.post(SESSIONS, json=session("s1", 47.0, 40.0), headers=editor)
    feature_id = api.count("SELECT id FROM outreach_sessions")
    assert api.client.delete(f"{SESSIONS}/{feature_id}", headers=editor).status_code == 204
    assert api.count("SELECT count(*) FROM outreach_sessions WHERE deleted_at IS NOT NULL") == 1
    assert api.client.get(f"{SESSIONS}/{feature_id}").status_code == 404
    assert api.client.delete(f"{SESSIONS}/{feature_id}", headers=editor).status_code == 404


def sync(api: Api, since: str | None, state: dict[int, dict]) -> str:
    """Apply one incremental sync to a partner's copy; returns the watermark for the next one."""
    url = f"{SESSIONS}?include_deleted=true&limit=3" + (f"&updated_since={since}" if since else "")
    stamp = None
    while url:
        body = api.client.get(url).json()
        stamp = stamp or body["timeStamp"]
        for feature in body["features"]:
            if feature["geometry"] is None:
                assert set(feature["properties"]) >= {"external_id", "deleted_at"}
                state.pop(feature["id"], None)
            else:
                state[feature["id"]] = feature
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), "")
    assert stamp is not None
    return stamp


def server_state(api: Api) -> dict[int, dict]:
    body = api.client.get(f"{SESSIONS}?limit=10000").json()
    return {
        f["id"]: (f["geometry"], {k: v for k, v in f["properties"].items() if k != "updated_at"})
        for f in body["features"]
    }


def test_incremental_sync_after_insert_update_delete_reproduces_the_server(api: Api) -> None:
    editor = api.as_(Role.editor)
    api.client.post(
        SESSIONS,
        json=collection(*(session(f"s{i}", 47 + i / 100, 40.0) for i in range(10))),
        headers=editor,
    )
    copy: dict[int, dict] = {}
    watermark = sync(api, None, copy)
    api.client.post(
        SESSIONS,
        json=collection(*(session(f"n{i}", 46.5, 40 + i / 100) for i in range(4))),
        headers=editor,
    )
    ids = sorted(copy)
    api.client.put(f"{SESSIONS}/{ids[0]}", json=session("s0", 47.5, 40.5, girls=9), headers=editor)
    api.client.post(
        SESSIONS, json=session("s1", 47.01, 40.0, boys=1), headers=editor
    )  # upsert = update
    api.client.delete(f"{SESSIONS}/{ids[2]}", headers=editor)
    api.client.delete(f"{SESSIONS}/{ids[3]}", headers=editor)
    changed: dict[int, dict] = {}
    sync(api, watermark, changed)
    assert len(changed) < 10, "an incremental sync sends what changed, not everything"
    sync(api, watermark, copy)
    mirror = {
        i: (f["geometry"], {k: v for k, v in f["properties"].items() if k != "updated_at"})
        for i, f in copy.items()
    }
    assert mirror == server_state(api)
    assert len(mirror) == 12


def test_imports_take_a_multipart_file_all_or_nothing(api: Api, tmp_path) -> None:
    editor = api.as_(Role.editor)
    data = json.dumps(collection(session("f1", 47.0, 40.0), session("f2", 47.1, 40.1))).encode()
    url = "/collections/outreach_sessions/imports"
    dry = api.client.post(
        f"{url}?dry_run=true", files={"file": ("../../etc/s.geojson", data)}, headers=editor
    )
    assert dry.status_code == 200 and dry.json()["rows"] == 2 and dry.json()["dry_run"] is True
    assert api.count("SELECT count(*) FROM outreach_sessions") == 0
    done = api.client.post(url, files={"file": ("s.geojson", data)}, headers=editor)
    assert done.status_code == 201 and done.json()["inserted"] == 2
    assert api.audit()[-1]["detail"]["filename"] == "s.geojson"
    bad = json.dumps(collection(session("f3", 47.0, 40.0, held_on="not a date"))).encode()
    refused = api.client.post(url, files={"file": ("bad.geojson", bad)}, headers=editor)
    assert refused.status_code == 422 and refused.json()["errors"][0]["row"] == 1
    wrong_type = api.client.post(url, files={"file": ("s.exe", b"MZ")}, headers=editor)
    assert (
        wrong_type.status_code == 422
        and "unsupported file type" in wrong_type.json()["description"]
    )
    assert api.client.post(url, content=data, headers=editor).status_code == 422
    other_field = api.client.post(url, files={"other": ("s.geojson", data)}, headers=editor)
    assert other_field.status_code == 422
    garbled = {**editor, "Content-Type": "multipart/form-data; boundary=xyz"}
    assert api.client.post(url, content=b"--xyz\r\nnonsense", headers=garbled).status_code == 422
    assert api.count("SELECT count(*) FROM outreach_sessions") == 2


def test_uploads_over_the_size_limit_are_413(settings: Settings, committed: sa.Engine) -> None:
    for small in make_api(settings, committed, max_upload_mb=0.01):
        editor = small.as_(Role.editor)
        big = b'{"type": "FeatureCollection", "features": [' + b" " * 200_000 + b"]}"
        assert (
            small.client.post(
                "/collections/villages/imports",
                files={"file": ("big.geojson", big)},
                headers=editor,
            ).status_code
            == 413
        )
        assert (
            small.client.post(
                "/collections/villages/items", content=big, headers=editor
            ).status_code
            == 413
        )
        assert small.audit() == []


def test_names_from_writes_are_escaped_in_html_and_exports_are_audited(api: Api) -> None:
    editor = api.as_(Role.editor)
    village = point_feature("v1", 47.0, 40.0, name="<script>alert(1)</script>")
    api.client.post("/collections/villages/items", json=village, headers=editor)
    page = api.client.get("/collections/villages/items?f=html").text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    api.client.get("/collections/villages/items?f=csv&name=x", headers=api.as_(Role.partner))
    api.client.get("/collections/villages/items?f=gpkg")
    entries = api.audit()
    assert [e["action"] for e in entries] == ["create", "export_csv", "export_gpkg"]
    served = {k: v for k, v in entries[1]["detail"].items() if k not in ("etag", "cached")}
    assert entries[1]["actor"] == "partner key" and served == {"name": ["x"]}  # + the file's ETag
    assert entries[2]["actor"] == "anonymous" and entries[2]["feature_count"] == 1


def test_a_revoked_key_is_refused(api: Api) -> None:
    with api.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE api_keys SET revoked_at = now() WHERE name = 'editor key'")
    response = api.client.post(
        SESSIONS, json=session("s1", 47.0, 40.0), headers=api.as_(Role.editor)
    )
    assert response.status_code == 401 and response.json()["code"] == "Unauthorized"
    assert api.client.get("/collections", headers=api.as_(Role.editor)).status_code == 401


def test_hazard_polygons_round_trip_through_post_and_get(api: Api) -> None:
    api.client.post(
        "/collections/hazard_areas/items",
        json=hazard("h1", square(47.0, 40.0)),
        headers=api.as_(Role.editor),
    )
    body = api.client.get("/collections/hazard_areas/items", headers=api.as_(Role.partner)).json()
    [feature] = body["features"]
    assert feature["geometry"]["type"] == "MultiPolygon" and feature["properties"]["area_m2"] > 0
    assert "notes" not in feature["properties"]
