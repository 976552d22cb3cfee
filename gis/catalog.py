"""Facts about the stored layers: feature counts, extents, whether they hold synthetic records."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from gis.notices import is_synthetic
from gis.spec import LayerSpec


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


@dataclass(frozen=True)
class LayerFacts:
    """What /collections tells about a layer's stored data."""

    bbox: tuple[float, float, float, float] | None  # lon/lat; estimated, may lag recent writes
    temporal: tuple[dt.date | None, dt.date | None] | None  # first/last value of the temporal field
    synthetic: bool
    feature_count: int  # live features, exact: one index-assisted count, not on the items path


def layer_facts(conn: sa.Connection, spec: LayerSpec) -> LayerFacts:
    """Extent, time span, synthetic flag and feature count, cheaply: the planner's estimated
    extent (falling back to a scan only when the table has no statistics yet), index look-ups for
    the time span, an EXISTS that stops at the first synthetic row, and the live row count (a
    data manager checks it after an import; the items pages never count)."""
    t = spec.table
    live = t.c.deleted_at.is_(None)
    estimated = sa.func.ST_EstimatedExtent(sa.literal(t.name), sa.literal("geom"))
    exact = sa.select(sa.func.ST_Extent(t.c.geom)).where(live).scalar_subquery()
    box = sa.func.coalesce(estimated, exact)
    columns: list[sa.ColumnElement] = [
        sa.func.ST_XMin(box), sa.func.ST_YMin(box), sa.func.ST_XMax(box), sa.func.ST_YMax(box),
        _synthetic(spec),
        sa.select(sa.func.count()).select_from(t).where(live).scalar_subquery(),
    ]  # fmt: skip
    if spec.temporal_field is not None:
        when = t.c[spec.temporal_field]
        columns += [
            sa.select(sa.func.min(when)).where(live).scalar_subquery(),
            sa.select(sa.func.max(when)).where(live).scalar_subquery(),
        ]
    row = conn.execute(sa.select(*columns)).one()  # one round trip for all the facts
    bbox = None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    temporal = (row[6], row[7]) if spec.temporal_field is not None else None
    return LayerFacts(bbox, temporal, bool(row[4]), int(row[5]))


def _synthetic(spec: LayerSpec) -> sa.Exists:
    t = spec.table
    return sa.exists().where(t.c.deleted_at.is_(None), is_synthetic(t.c.source))


def holds_synthetic(conn: sa.Connection, spec: LayerSpec) -> bool:
    """Whether any live record of the layer is synthetic (pages must then say so)."""
    return bool(conn.execute(sa.select(_synthetic(spec))).scalar())
