"""SQL that turns layer rows into GeoJSON inside PostgreSQL, generic over the layer specs."""

from __future__ import annotations

import re

import sqlalchemy as sa

from gis.crs import CRS84, Crs, from_storage
from gis.spec import LayerSpec

# Decimal digits in GeoJSON output: 7 ≈ 1 cm, the precision coordinates are stored at.
GEOJSON_DIGITS = 7
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def sql_key(name: str) -> sa.ColumnElement:
    """A JSON key as an SQL string literal: keys come from specs only, and literals (not bound
    parameters) keep the statement short and its text stable, so it can be prepared and cached."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return sa.literal_column(f"'{name}'", sa.Text)


def feature_json(
    spec: LayerSpec,
    fields: tuple[str, ...],
    alias: sa.FromClause | None = None,
    extra: tuple[str, ...] = (),
    *,
    crs: Crs = CRS84,
    geometry: bool = True,
) -> sa.ColumnElement:
    """`json_build_object(...)` of one GeoJSON Feature for a row of the layer's table.

    `extra` names bookkeeping columns (e.g. updated_at) appended to the properties; `crs` is the
    output CRS (transformed by PostGIS), `geometry=False` gives a null geometry (skipGeometry).
    """
    t = alias if alias is not None else spec.table
    pairs: list[sa.ColumnElement] = []
    for name in ("external_id", *fields, "source", *extra):
        pairs += [sql_key(name), t.c[name]]
    return sa.func.json_build_object(
        sql_key("type"),
        sql_key("Feature"),
        sql_key("id"),
        t.c.id,
        sql_key("geometry"),
        geometry_json(t.c.geom, crs) if geometry else sa.null(),
        sql_key("properties"),
        sa.func.json_build_object(*pairs),
    )


def geometry_json(geom: sa.ColumnElement, crs: Crs = CRS84) -> sa.ColumnElement:
    """ST_AsGeoJSON of a stored geometry in `crs`, with no `crs` member (Content-Crs says it)."""
    if crs.is_storage:
        text = sa.func.ST_AsGeoJSON(geom, sa.literal_column(str(GEOJSON_DIGITS)))
    else:
        digits: sa.ColumnElement = sa.literal_column(str(crs.digits))
        text = sa.func.ST_AsGeoJSON(from_storage(geom, crs), digits, sa.literal_column("0"))
    return sa.cast(text, sa.JSON)


def feature_collection_sql(
    spec: LayerSpec, fields: tuple[str, ...], where: sa.ColumnElement | None = None
) -> sa.Select:
    """One row: the whole FeatureCollection as text, built by PostgreSQL, and its feature count."""
    t = spec.table
    inner = sa.select(t).where(t.c.deleted_at.is_(None))
    if where is not None:
        inner = inner.where(where)
    rows = inner.order_by(t.c.id).subquery("f")
    features = sa.func.coalesce(
        sa.func.json_agg(feature_json(spec, fields, rows)), sa.text("'[]'::json")
    )
    return sa.select(
        sa.cast(
            sa.func.json_build_object("type", "FeatureCollection", "features", features), sa.Text
        ),
        sa.func.count(),
    ).select_from(rows)
