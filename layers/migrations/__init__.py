"""The schema of the layers, as Alembic migrations (versions/), and the two ways to move it."""

from pathlib import Path

import sqlalchemy as sa

from gis import db

FOLDER = Path(__file__).resolve().parent


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    db.upgrade(engine, FOLDER, revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    db.downgrade(engine, FOLDER, revision)
