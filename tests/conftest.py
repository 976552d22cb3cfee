"""Test fixtures: throw-away PostGIS databases on the server `make test` starts, never a mock.

SAFEGROUND_TEST_SERVER_URL names the server (any database on it); each test session creates its
own databases there and drops them at the end. Without it the tests fail: they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from gis import db
from gis.settings import DatabaseSettings, ImportSettings, Settings
from layers import REGISTRY, migrations

# In CI the property tests draw the same examples every run, so a red build is reproducible;
# on a developer's machine they explore new ones each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


def _server_url() -> sa.URL:
    url = os.environ.get("SAFEGROUND_TEST_SERVER_URL") or os.environ.get("SAFEGROUND_DATABASE_URL")
    if not url:
        raise pytest.UsageError(
            "SAFEGROUND_TEST_SERVER_URL is not set: run the tests with `make test`, which starts a "
            "private PostGIS server"
        )
    return make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))


def create_database(prefix: str) -> sa.URL:
    """A new empty database with PostGIS, on the test server."""
    server = _server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = server.set(database=name)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    engine.dispose()
    return url


def drop_database(url: sa.URL) -> None:
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    admin.dispose()


def settings_for(url: sa.URL) -> Settings:
    return Settings(database=DatabaseSettings(url=url.render_as_string(hide_password=False)))


@pytest.fixture(scope="session")
def database_url() -> Iterator[sa.URL]:
    url = create_database("safeground_test")
    engine = sa.create_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: sa.URL) -> Settings:
    return settings_for(database_url)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[sa.Engine]:
    engine = db.make_engine(settings.database)
    yield engine
    engine.dispose()


@pytest.fixture
def conn(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection whose outer transaction is rolled back after the test, whatever it did."""
    with engine.connect() as connection:
        outer = connection.begin()
        yield connection
        outer.rollback()


@pytest.fixture
def committed(engine: sa.Engine) -> Iterator[sa.Engine]:
    """For tests whose code commits (API, CLI): every layer table is emptied afterwards."""
    yield engine
    tables = ", ".join([*(s.table.name for s in REGISTRY.values()), "import_batches"])
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def limits() -> ImportSettings:
    return ImportSettings()
