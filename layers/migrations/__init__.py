"""The schema of the layers, as Alembic migrations (versions/), and the two ways to move it."""

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from geoalchemy2 import alembic_helpers

import gis.access
import gis.analysis.pairs
import gis.download_cache  # noqa: F401  (registers the layers' change counters)
import layers  # noqa: F401  (registers every layer's table in the metadata)
from gis import db
from gis.spec import metadata

FOLDER = Path(__file__).resolve().parent

# How Alembic compares the live schema with the specs, for `alembic revision --autogenerate`
# (env.py) and for the test that a freshly migrated database differs from them in nothing.
COMPARE: dict[str, Any] = {
    "target_metadata": metadata,
    "include_object": alembic_helpers.include_object,
    "compare_type": True,
    "compare_server_default": True,
}


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    db.upgrade(engine, FOLDER, revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    db.downgrade(engine, FOLDER, revision)


def differences(conn: sa.Connection) -> list[Any]:
    """What `alembic revision --autogenerate` would propose against this database."""
    options = {k: v for k, v in COMPARE.items() if k != "target_metadata"}
    return list(compare_metadata(MigrationContext.configure(conn, opts=options), metadata))
