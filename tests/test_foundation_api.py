"""The first API: /health and /collections against a real database."""

from __future__ import annotations

from fastapi.testclient import TestClient

from safeground.api.app import create_app


def test_health_reports_postgres_and_postgis(settings, committed) -> None:
    with TestClient(create_app(settings)) as client:
        body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["database"].startswith("PostgreSQL 15") and body["postgis"].startswith("3.")


def test_unknown_path_is_a_json_404(settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/no/such/thing")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"
