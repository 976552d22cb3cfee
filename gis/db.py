"""Database engines and migrations."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.pool import ConnectionPoolEntry

from gis.db_errors import classify
from gis.errors import Unavailable
from gis.settings import DatabaseSettings

# A pooled connection used this recently is trusted without a ping; an idle one is pinged first.
PING_IDLE_AFTER_S = 5.0


def make_engine(settings: DatabaseSettings) -> sa.Engine:
    # Every wait is bounded, so a fault answers quickly (503) instead of holding a request: the
    # pool's wait for a connection, a connect to an unreachable host, a lock wait, a statement.
    options = (
        f"-c statement_timeout={settings.statement_timeout_ms} "
        f"-c lock_timeout={settings.lock_timeout_ms}"
    )
    engine = sa.create_engine(
        settings.url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=settings.pool_timeout_s,
        connect_args={"options": options, "connect_timeout": settings.connect_timeout_s},
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


# A migration may wait for its locks (the API's requests time out instead, with a 503).
MIGRATION_LOCK_TIMEOUT = "SET LOCAL lock_timeout = '10min'"


def upgrade(engine: sa.Engine, migrations: Path, revision: str = "head") -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(MIGRATION_LOCK_TIMEOUT)
        command.upgrade(alembic_config(migrations, connection=conn), revision)


def downgrade(engine: sa.Engine, migrations: Path, revision: str = "base") -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(MIGRATION_LOCK_TIMEOUT)
        command.downgrade(alembic_config(migrations, connection=conn), revision)


def health(engine: sa.Engine) -> dict[str, str]:
    """Versions of PostgreSQL and PostGIS; raises Unavailable naming what is down."""
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
            try:
                with conn.begin_nested():
                    postgis = conn.execute(sa.text("SELECT postgis_lib_version()")).scalar_one()
            except sa.exc.ProgrammingError:
                raise Unavailable(
                    "postgis is unavailable: the extension is not installed"
                ) from None
    except sa.exc.SQLAlchemyError as exc:
        if classify(exc) is None:
            raise
        raise Unavailable("database is unavailable: PostgreSQL does not answer") from exc
    return {"database": version, "postgis": postgis}
