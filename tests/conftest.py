"""Test fixtures: throw-away PostGIS databases on the server `make test` starts, never a mock.

SAFEGROUND_TEST_SERVER_URL names the server (any database on it); each test session creates its
own databases there and drops them at the end. Without it the tests fail: they never skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir
from sqlalchemy.engine import make_url

from demo.load import load_demo
from gis import db
from gis.access import api_keys, audit_log
from gis.ingest import ImportReport
from gis.settings import (
    DEMO_POPULATION_RASTER,
    AnalysisSettings,
    DatabaseSettings,
    ImportSettings,
    Settings,
)
from gis.spec import import_batches
from layers import REGISTRY, migrations

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
# Hypothesis keeps its example database in git-ignored artifacts/, not in the source tree.
set_hypothesis_home_dir(str(ROOT / "artifacts" / "hypothesis"))
# In CI the property tests draw the same examples every run, so a red build is reproducible;
# on a developer's machine they explore new ones each time.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def _server_url() -> sa.URL:
    url = os.environ.get("SAFEGROUND_TEST_SERVER_URL") or os.environ.get("SAFEGROUND_DATABASE_URL")
    if not url:
        raise pytest.UsageError(
            "SAFEGROUND_TEST_SERVER_URL is not set: run the tests with `make test`, which starts a "
            "private PostGIS server"
        )
    return make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))


def create_database(prefix: str, template: sa.URL | None = None) -> sa.URL:
    """A new database with PostGIS on the test server: empty, or a copy of `template` (which
    nobody may be connected to: PostgreSQL copies it file by file, far faster than reloading)."""
    server = _server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template.database}"' if template is not None else ""
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    admin.dispose()
    url = server.set(database=name)
    if template is None:
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


def settings_for(url: sa.URL, raster_dir: Path | None = None) -> Settings:
    """Settings for a test database; rasters from `raster_dir` (never the source tree's var/)."""
    analysis = AnalysisSettings(raster_dir=raster_dir) if raster_dir else AnalysisSettings()
    return Settings(
        database=DatabaseSettings(url=url.render_as_string(hide_password=False)),
        analysis=analysis,
    )


@dataclass(frozen=True)
class DemoTemplate:
    """The national demo, migrated and loaded once per test run, to be copied, never used."""

    url: sa.URL
    reports: list[ImportReport]  # what the one load did
    raster_dir: Path  # where that load wrote the modelled population raster


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplate]:
    url = create_database("safeground_demo_template")
    raster_dir = tmp_path_factory.mktemp("rasters")
    engine = sa.create_engine(url)
    try:
        migrations.upgrade(engine)
        reports = load_demo(
            engine,
            ImportSettings(),
            DATA,
            "national",
            raster_path=raster_dir / DEMO_POPULATION_RASTER,
        )
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "ANALYZE"
            )  # as autovacuum would: estimated extents need statistics
    finally:
        engine.dispose()  # a template must have no connection when it is copied
    yield DemoTemplate(url, reports, raster_dir)
    drop_database(url)


@pytest.fixture(scope="module")
def demo_copy(demo_template: DemoTemplate) -> Iterator[sa.URL]:
    """A fresh copy of the national demo for one test module, which may write to it."""
    url = create_database("safeground_demo", template=demo_template.url)
    yield url
    drop_database(url)


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
    """For tests whose code commits (API, CLI): every table is emptied afterwards, keys and audit
    entries too, so no test sees what another left behind."""
    yield engine
    written = [*(s.table for s in REGISTRY.values()), import_batches, api_keys, audit_log]
    tables = ", ".join(t.name for t in written)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def limits() -> ImportSettings:
    return ImportSettings()
