"""Database engines and migrations."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.pool import ConnectionPoolEntry

from gis.settings import DatabaseSettings

# A pooled connection used this recently is trusted without a ping; an idle one is pinged first.
PING_IDLE_AFTER_S = 5.0


def make_engine(settings: DatabaseSettings) -> sa.Engine:
    engine = sa.create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        connect_args={"options": f"-c statement_timeout={settings.statement_timeout_ms}"},
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: sa.Engine) -> None:
    """Like pool_pre_ping, but only for connections idle longer than PING_IDLE_AFTER_S.

    A ping is a round trip on every checkout, a good share of a small API request; connections of
    a busy server were used moments ago. A dead one found by the ping is replaced (the pool retries
    on DisconnectionError); one that dies within the window fails its statement, and SQLAlchemy
    then invalidates the pool.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: object, record: ConnectionPoolEntry, proxy: object) -> None:
        last = record.info.get("checked_in_at")
        if last is not None and time.monotonic() - last < PING_IDLE_AFTER_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # type: ignore[arg-type]
        except engine.dialect.loaded_dbapi.Error as exc:
            raise sa.exc.DisconnectionError() from exc


def alembic_config(
    migrations: Path, url: str | None = None, connection: sa.Connection | None = None
) -> Config:
    """Alembic's configuration for the migrations in the folder `migrations` (the caller's own)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["url"] = url
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, migrations: Path, revision: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(migrations, connection=conn), revision)


def downgrade(engine: sa.Engine, migrations: Path, revision: str = "base") -> None:
    with engine.begin() as conn:
        command.downgrade(alembic_config(migrations, connection=conn), revision)


def health(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT version(), postgis_lib_version()")).one()
    return {"database": row[0], "postgis": row[1]}
