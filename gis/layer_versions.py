"""The layers' change counters: one row per layer table, bumped by a statement-level trigger in
the writing transaction of every INSERT, UPDATE, DELETE, COPY and TRUNCATE (migration 0009), so a
snapshot sees a counter move exactly when it sees the write, and a rolled-back write moves
nothing. The download cache files answers under them; the analysis pairs skip their stale check
while they stand still."""

from __future__ import annotations

from collections.abc import Iterable

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
