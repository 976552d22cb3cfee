"""The layers' change counters: one row per layer table, bumped by a statement-level trigger in
the writing transaction of every INSERT, UPDATE, DELETE, COPY and TRUNCATE (migration 0009), so a
snapshot sees a counter move exactly when it sees the write, and a rolled-back write moves
nothing. The download cache files answers under them; the analysis pairs skip their stale check
while they stand still."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
import sqlalchemy as sa

from gis.spec import metadata

layer_versions = sa.Table(
    "layer_versions",
    metadata,
    sa.Column("layer", sa.Text, primary_key=True),
    sa.Column("version", sa.BigInteger, nullable=False, server_default=sa.text("0")),
)


def counters(conn: sa.Connection, tables: Iterable[str]) -> dict[str, int]:
    """Each named table's counter as this statement's snapshot sees it (0: never written)."""
    names = [str(name) for name in tables]  # str: a quoted_name is no JSON key
    rows = conn.execute(
        sa.select(layer_versions.c.layer, layer_versions.c.version).where(
            layer_versions.c.layer.in_(names)
        )
    )
    return {name: 0 for name in names} | {row.layer: int(row.version) for row in rows}


COUNTER_SQL = "SELECT version FROM layer_versions WHERE layer = %s"


def counter(conn: sa.Connection, table: str) -> int:
    """One table's counter, as `counters` reads it, on the hot path of a kept tile: straight on
    the driver as a prepared statement (SQLAlchemy's compile and result handling cost about as
    much as the read itself)."""
    driver: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    with driver.cursor() as cur:
        row = cur.execute(COUNTER_SQL, (str(table),), prepare=True).fetchone()
    return int(row[0]) if row else 0
