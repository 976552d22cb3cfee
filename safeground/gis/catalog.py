"""Facts about the stored layers: feature counts, extents, whether they hold synthetic records."""

from __future__ import annotations

import sqlalchemy as sa

from safeground.gis.spec import LayerSpec


def feature_counts(conn: sa.Connection, specs: list[LayerSpec]) -> dict[str, int]:
    """Live (not deleted) features per layer, in one round trip."""
    if not specs:
        return {}
    parts = [
        sa.select(sa.literal(s.name).label("layer"), sa.func.count().label("n"))
        .select_from(s.table)
        .where(s.table.c.deleted_at.is_(None))
        for s in specs
    ]
    return {row.layer: int(row.n) for row in conn.execute(sa.union_all(*parts))}
