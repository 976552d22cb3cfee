"""SQL that turns layer rows into GeoJSON inside PostgreSQL, generic over the layer specs."""

from __future__ import annotations

import sqlalchemy as sa

from safeground.gis.spec import LayerSpec

# Decimal digits in GeoJSON output: 7 ≈ 1 cm, the precision coordinates are stored at.
GEOJSON_DIGITS = 7


def feature_json(spec: LayerSpec, fields: tuple[str, ...], alias: sa.FromClause | None = None) -> sa.ColumnElement:
    """`json_build_object(...)` of one GeoJSON Feature for a row of the layer's table."""
    t = alias if alias is not None else spec.table
    pairs: list[sa.ColumnElement] = []
    for name in ("external_id", *fields, "source"):
        pairs += [sa.literal(name), t.c[name]]
    return sa.func.json_build_object(
        "type",
        "Feature",
        "id",
        t.c.id,
        "geometry",
        sa.cast(sa.func.ST_AsGeoJSON(t.c.geom, GEOJSON_DIGITS), sa.JSON),
        "properties",
        sa.func.json_build_object(*pairs),
    )


def feature_collection_sql(spec: LayerSpec, fields: tuple[str, ...], where: sa.ColumnElement | None = None) -> sa.Select:
    """One row: the whole FeatureCollection as text, built by PostgreSQL, and its feature count."""
    t = spec.table
    inner = sa.select(t).where(t.c.deleted_at.is_(None))
    if where is not None:
        inner = inner.where(where)
    rows = inner.order_by(t.c.id).subquery("f")
    features = sa.func.coalesce(sa.func.json_agg(feature_json(spec, fields, rows)), sa.text("'[]'::json"))
    return sa.select(
        sa.cast(sa.func.json_build_object("type", "FeatureCollection", "features", features), sa.Text),
        sa.func.count(),
    ).select_from(rows)
