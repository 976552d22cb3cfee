"""The first API: /health and /collections against a real database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app


def test_health_reports_postgres_and_postgis(settings, committed) -> None:
    with TestClient(create_app(settings)) as client:
        body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"].startswith("PostgreSQL 15") and body["postgis"].startswith("3.")


def test_unknown_path_is_a_json_404(settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/no/such/thing")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


def test_collections_list_every_layer_with_its_feature_count(
    settings, committed, tmp_path, limits
) -> None:
    import sqlalchemy as sa

    from gis.access import create_key
    from gis.ingest import import_file
    from gis.spec import Role
    from layers import REGISTRY

    from .helpers import session, write_geojson

    with committed.begin() as conn:
        import_file(
            conn,
            REGISTRY["outreach_sessions"],
            write_geojson(tmp_path / "s.geojson", [session(f"s{i}", 47, 40) for i in range(3)]),
            limits,
        )
        conn.execute(
            sa.text("UPDATE outreach_sessions SET deleted_at = now() WHERE external_id = 's2'")
        )
        key = create_key(conn, "admin", Role.admin)
    with TestClient(create_app(settings)) as client:
        listed = client.get("/collections", headers={"X-API-Key": key}).json()["collections"]
    counts = {c["id"]: c["itemCount"] for c in listed}
    assert set(counts) == set(REGISTRY)
    assert counts["outreach_sessions"] == 2 and counts["hazard_areas"] == 0
