"""Shared fixtures for the OGC API tests: one demo database per session, keys per role, a live server.

The demo database is one copy of the session's demo template (conftest.py), made once however many
test modules import these fixtures, and dropped at the end of the session. Read-only tests use it;
tests that write use `demo_copy` or the `committed` database of conftest.py instead.

Test modules import the fixture functions (`demo_fixture`, …); tests ask for them by name (`demo`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from gis import db
from gis.access import create_key
from gis.settings import Settings
from gis.spec import Role

from .conftest import DemoTemplate, create_database, drop_database, settings_for
from .serving import serving

ROLES = (Role.public, Role.partner, Role.staff, Role.editor, Role.admin)


@dataclass(frozen=True)
class Demo:
    url: sa.URL
    settings: Settings
    engine: sa.Engine
    keys: dict[Role, str | None]  # public: no key


_DEMO: dict[str, Demo] = {}
_SERVER: dict[str, str] = {}


def _build_demo(template: DemoTemplate) -> Demo:
    url = create_database("safeground_ogc", template=template.url)
    settings = settings_for(url, template.raster_dir)
    engine = db.make_engine(settings.database)
    with engine.begin() as conn:
        keys: dict[Role, str | None] = {Role.public: None}
        keys |= {role: create_key(conn, f"test {role.name}", role) for role in ROLES[1:]}
    return Demo(url, settings, engine, keys)


@pytest.fixture(scope="session", name="demo")
def demo_fixture(request: pytest.FixtureRequest, demo_template: DemoTemplate) -> Demo:
    """A copy of the national demo shared by the read-only modules (keys per role in it)."""
    if "demo" not in _DEMO:
        _DEMO["demo"] = _build_demo(demo_template)

        def drop() -> None:
            found = _DEMO.pop("demo")
            found.engine.dispose()
            drop_database(found.url)

        request.addfinalizer(drop)
    return _DEMO["demo"]


@pytest.fixture(scope="session", name="demo_client")
def demo_client_fixture(demo: Demo) -> Iterator[TestClient]:
    app = create_app(demo.settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def headers(demo: Demo, role: Role) -> dict[str, str]:
    key = demo.keys[role]
    return {"X-API-Key": key} if key else {}


def sql_count(demo: Demo, sql: str, **params: object) -> int:
    with demo.engine.connect() as conn:
        return int(conn.execute(sa.text(sql), params).scalar_one())


@pytest.fixture(scope="session", name="live_server")
def live_server_fixture(demo: Demo, request: pytest.FixtureRequest) -> str:
    """The app served by uvicorn on a free local port, in a background thread; its base URL."""
    if "url" not in _SERVER:
        served = serving(create_app(demo.settings))
        _SERVER["url"] = served.__enter__()

        def stop() -> None:
            served.__exit__(None, None, None)
            _SERVER.clear()

        request.addfinalizer(stop)
    return _SERVER["url"]


def tmp_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
