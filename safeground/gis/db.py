"""Database engines and migrations."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from safeground.gis.settings import DatabaseSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(settings: DatabaseSettings) -> sa.Engine:
    return sa.create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=True,
        connect_args={"options": f"-c statement_timeout={settings.statement_timeout_ms}"},
    )


def alembic_config(url: str | None = None, connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(connection=conn), revision)


def downgrade(engine: sa.Engine, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(connection=conn), revision)


def health(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT version(), postgis_lib_version()")).one()
    return {"database": row[0], "postgis": row[1]}
