"""How a map layer's features travel in the page (data.collect builds them, map.js `SG.add` reads
them): outlines simplified for display at the map's scale, rings as encoded polylines, and
values most features share sent once per layer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from gis.maps.sqltypes import INTEGER, INTEGERS, JSON
from gis.spec import LayerSpec

# Encoded polylines hold whole numbers of 10^-digits degrees in 32-bit arithmetic (map.js): up to
# 5 digits is safe; beyond, shapes go as GeoJSON coordinates.
MAX_PACKED_DIGITS = 5


def shown_shape(exact: sa.ColumnElement, tolerance_deg: float) -> sa.ColumnElement:
    """The outline drawn at a scale: simplified within `tolerance_deg`, topology kept. A shape
    narrower than that either way is drawn as its bounding box widened to that size, so no hazard
    area ever vanishes or thins to a line the scale cannot show (popups keep stored figures)."""
    simplified = sa.func.ST_SimplifyPreserveTopology(exact, tolerance_deg)
    width = sa.func.ST_XMax(exact) - sa.func.ST_XMin(exact)
    height = sa.func.ST_YMax(exact) - sa.func.ST_YMin(exact)
    box = sa.func.ST_Expand(
        sa.func.ST_Envelope(exact),
        sa.func.greatest(0, (tolerance_deg - width) / 2),
        sa.func.greatest(0, (tolerance_deg - height) / 2),
    )
    narrow = sa.or_(width < tolerance_deg, height < tolerance_deg, sa.func.ST_IsEmpty(simplified))
    return sa.case((narrow, box), else_=simplified)


def shape_json(
    g: sa.ColumnElement, geometry_type: str, digits: int, packed: bool
) -> sa.ColumnElement:
    """A feature's shape as the page reads it (map.js `SG.add`): a point's [lon, lat]; a polygon
    simplified for display as, per part, its rings as encoded polylines (Google's format: deltas,
    about 4 characters a vertex instead of 18), or else the GeoJSON geometry."""
    if geometry_type == "Point":  # a place to the metre, whatever the scale's outlines
        return sa.cast(sa.func.ST_AsGeoJSON(g, max(digits, 5)), JSON)["coordinates"]
    if not packed:
        return sa.cast(sa.func.ST_AsGeoJSON(g, digits), JSON)
    path = sa.column("path", INTEGERS)
    part = sa.func.ST_Dump(g).table_valued(path, "geom").lateral("part")
    ring = sa.func.ST_DumpRings(part.c.geom).table_valued(path, "geom").lateral("ring")
    first = sa.literal_column("1", INTEGER)  # inline: GROUP BY matches it (a bound one not)
    rings = (
        sa.select(
            part.c.path[first].label("n"),
            sa.func.json_agg(
                aggregate_order_by(
                    sa.func.ST_AsEncodedPolyline(sa.func.ST_ExteriorRing(ring.c.geom), digits),
                    ring.c.path[first],
                )
            ).label("r"),
        )
        .select_from(part.join(ring, sa.true()))
        .group_by(part.c.path[first])
        .subquery("rings")
    )
    return (
        sa.select(sa.func.json_agg(aggregate_order_by(rings.c.r, rings.c.n)))
        .select_from(rings)
        .scalar_subquery()
    )


def repeated(spec: LayerSpec, name: str) -> bool:
    """A value most features share: an enum code (or its words), yes/no, the source."""
    if name in ("_k", "_a", "source"):
        return True
    if name not in spec.table.c:
        return False
    column = spec.table.c[name]
    return isinstance(column.type, sa.Boolean) or f"{name}_allowed" in {
        c.name for c in spec.table.constraints
    }
