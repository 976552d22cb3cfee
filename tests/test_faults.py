"""Faults answer 503 with Retry-After, and the service stays up around them: a database that stops
and comes back, an exhausted pool, a locked table, a statement timeout, a bug (keep-alive kept)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from bench.tempcluster import temp_cluster
from gis.access import create_key
from gis.settings import ApiSettings, DatabaseSettings, Settings
from gis.spec import Role

from .helpers import point_feature
from .serving import serving

FACILITIES = "/collections/facilities/items"
VILLAGES = "/collections/villages/items"


def _settings(settings: Settings, **database: object) -> Settings:
    url = settings.database.url
    return settings.model_copy(
        update={
            "database": DatabaseSettings(url=url, **database),  # type: ignore[arg-type]
            "api": ApiSettings(key_cache_seconds=0),
        }
    )


def _unavailable(response: object) -> bool:
    status = getattr(response, "status_code")  # noqa: B009
    headers = getattr(response, "headers")  # noqa: B009
    return status == 503 and int(headers["retry-after"]) > 0


# --- the database stops and comes back ---------------------------------------------------------


def test_database_restart_answers_503_then_recovers_with_every_acknowledged_write() -> None:
    with temp_cluster() as cluster:
        settings = Settings(
            database=DatabaseSettings(url=cluster.url.render_as_string(hide_password=False)),
            api=ApiSettings(key_cache_seconds=0),
        )
        engine = sa.create_engine(cluster.url)
        with engine.begin() as conn:
            key = create_key(conn, "editor", Role.editor)
        app = create_app(settings)
        acknowledged: list[str] = []
        statuses: list[int] = []
        stop = threading.Event()

        def load(client: TestClient, worker: int) -> None:
            for i in range(2000):  # bounded: the outage below lasts far fewer requests
                if stop.is_set():
                    return
                external_id = f"w{worker}-{i}"
                body = {"type": "FeatureCollection", "features": [
                    point_feature(external_id, 47.0 + i * 1e-4, 40.0, facility_type="school",
                                  name=f"School {i}")]}  # fmt: skip
                write = client.post(FACILITIES, json=body, headers={"X-API-Key": key})
                read = client.get(FACILITIES, params={"limit": 5})
                for response in (write, read):
                    statuses.append(response.status_code)
                    assert response.status_code < 500 or _unavailable(response), response.text
                if write.status_code == 201:
                    acknowledged.append(external_id)

        with TestClient(app) as client:
            assert client.get("/health").status_code == 200
            workers = [threading.Thread(target=load, args=(client, w)) for w in range(2)]
            for w in workers:
                w.start()
            while len(acknowledged) < 5:
                threading.Event().wait(0.05)
            cluster.stop()
            outage = [client.get(VILLAGES), client.get("/health")]
            health = outage[1].json()
            assert all(_unavailable(r) for r in outage)
            assert outage[0].json()["code"] == "ServiceUnavailable"
            assert health["down"] == "database" and "unavailable" in health["description"]
            written_before = len(acknowledged)
            cluster.start()
            for _ in range(200):  # the API recovers by itself: no restart of it
                if client.get("/health").status_code == 200:
                    break
                threading.Event().wait(0.05)
            while len(acknowledged) < written_before + 5 and any(w.is_alive() for w in workers):
                threading.Event().wait(0.05)
            stop.set()
            for w in workers:
                w.join(timeout=30)
            assert client.get(VILLAGES).status_code == 200
        app.state.engine.dispose()
        engine.dispose()  # its pooled connection died with the restart
        with engine.connect() as conn:
            stored = set(
                conn.execute(sa.text("SELECT external_id FROM facilities")).scalars().all()
            )
        engine.dispose()
        assert 503 in statuses and not set(statuses) - {200, 201, 503}
        assert set(acknowledged) <= stored, "a write acknowledged with 201 was lost"
        assert len(acknowledged) > written_before, "writes did not resume after the restart"


# --- pool, locks, statement timeout ------------------------------------------------------------


@pytest.fixture
def app_with(settings: Settings, engine: sa.Engine) -> Iterator:
    apps = []

    def make(**database: object) -> TestClient:
        app = create_app(_settings(settings, **database))
        apps.append(app)
        return TestClient(app)

    yield make
    for app in apps:
        app.state.engine.dispose()


def test_a_request_that_gets_no_pooled_connection_answers_503_quickly(app_with) -> None:
    client = app_with(pool_size=1, pool_timeout_s=0.2)
    engine: sa.Engine = client.app.state.engine  # type: ignore[attr-defined]
    held = [engine.connect(), engine.connect()]  # the pool (1 + 1 overflow) is all taken
    try:
        response = client.get(VILLAGES)
        assert _unavailable(response)
        assert "connection" in response.json()["description"]
    finally:
        for c in held:
            c.close()
    assert client.get(VILLAGES).status_code == 200


def test_a_locked_table_answers_503_while_other_tables_keep_answering(
    app_with, engine: sa.Engine
) -> None:
    client = app_with(lock_timeout_ms=200)
    with engine.connect() as locker:
        locker.exec_driver_sql("LOCK TABLE facilities IN ACCESS EXCLUSIVE MODE")
        results: list[tuple[str, int]] = []

        def hammer(path: str) -> None:
            for _ in range(5):
                response = client.get(path, params={"limit": 5})
                results.append((path, response.status_code))
                if path == FACILITIES:
                    assert _unavailable(response)
                    assert "locked" in response.json()["description"]

        threads = [
            threading.Thread(target=hammer, args=(p,)) for p in [FACILITIES] * 3 + [VILLAGES] * 3
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        locker.rollback()
    assert {s for p, s in results if p == VILLAGES} == {200}
    assert {s for p, s in results if p == FACILITIES} == {503}
    assert len(results) == 30
    assert client.get(FACILITIES).status_code == 200


def test_a_statement_timeout_answers_503_with_advice(app_with, engine: sa.Engine) -> None:
    # The lock wait outlasts the statement timeout, so the statement is cancelled by the timeout.
    client = app_with(statement_timeout_ms=150, lock_timeout_ms=60_000)
    with engine.connect() as locker:
        locker.exec_driver_sql("LOCK TABLE facilities IN ACCESS EXCLUSIVE MODE")
        response = client.get(FACILITIES)
        locker.rollback()
    assert _unavailable(response)
    assert "ask for less" in response.json()["description"]


# --- a bug keeps the connection ----------------------------------------------------------------


def test_an_unhandled_error_answers_500_and_keeps_the_keep_alive_connection(
    settings: Settings,
) -> None:
    app = create_app(_settings(settings))

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug, with a secret in it: hunter2")

    with serving(app) as base:
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("GET", "/boom")
        failed = conn.getresponse()
        body = failed.read()
        first_socket = conn.sock
        assert failed.status == 500 and b"hunter2" not in body and b"RuntimeError" not in body
        assert failed.getheader("connection") != "close"
        conn.request("GET", "/conformance")
        good = conn.getresponse()
        good.read()
        assert good.status == 200
        assert conn.sock is first_socket, "the client had to open a new connection"
        conn.close()
    app.state.engine.dispose()
