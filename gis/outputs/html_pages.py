"""Readable HTML pages: any API document, and a page of features with a small map.

The map is an inline SVG drawn from geometry PostGIS renders (ST_AsSVG), so the page works
offline and loads no script or stylesheet from anywhere. The HTML is Jinja2 templates (templates/,
autoescaped): names and notes come from imported files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from gis.items import export_select, export_values
from gis.query import ItemsQuery
from gis.spec import LayerSpec
from gis.templating import render

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAP_WIDTH_PX = 720


def document_page(title: str, doc: Mapping[str, Any], notices: Sequence[str] = ()) -> str:
    """Any JSON document of the API (landing page, collections, queryables…) as HTML."""
    return render(
        TEMPLATES,
        "document.html",
        title=title,
        notices=list(notices),
        description=doc.get("description"),
        doc_links=doc.get("links", []),
        rest={k: v for k, v in doc.items() if k not in ("title", "description")},
    )


# --- features ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureRows:
    """A page of features for HTML: the visible properties, and the geometry as SVG."""

    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]  # id, properties…, svg path or (x, y), bounds; in output order
    point: bool
    fetched: int  # as PageResult: limit + 1 means there is more in the direction of travel
    first_key: str | None  # sort keys of the travel's first and last rows, as the cursor wants
    last_key: str | None


def read_feature_rows(conn: sa.Connection, q: ItemsQuery) -> FeatureRows:
    """limit + 1 rows in the query's order (the extra one tells whether there is a next page)."""
    t, spec = q.spec.table, q.spec
    point = spec.geometry_type == "Point"
    names = ("external_id", *q.fields, "source")
    shape = (
        [sa.func.ST_X(t.c.geom), sa.func.ST_Y(t.c.geom)]
        if point
        else [sa.func.ST_AsSVG(t.c.geom, 0, 5)]
    )
    bounds = [
        sa.func.ST_XMin(t.c.geom),
        sa.func.ST_YMin(t.c.geom),
        sa.func.ST_XMax(t.c.geom),
        sa.func.ST_YMax(t.c.geom),
    ]
    columns = [t.c.id, *(t.c[n] for n in names)]
    if q.sync:
        columns.append(t.c.deleted_at)
    stmt = export_select(q, [*columns, *shape, *bounds], whole=False)
    values = export_values(q, whole=False) | {"export_limit": q.page.limit + 1}
    fetched = [tuple(r) for r in conn.execute(stmt.params(values))]
    limit = q.page.limit
    header = ("id", *names, *(("deleted_at",) if q.sync else ()))

    def key(row: tuple[Any, ...]) -> str:
        return orjson.dumps(
            [row[0]] if q.sort.field is None else [row[header.index(q.sort.field)], row[0]]
        ).decode()

    first = key(fetched[0]) if fetched else None
    last = key(fetched[limit - 1]) if len(fetched) > limit else None
    rows = fetched[:limit]
    if q.cursor is not None and q.cursor.backward:
        rows = rows[::-1]
    return FeatureRows(header, rows, point, len(fetched), first, last)


def _svg_map(spec: LayerSpec, data: FeatureRows, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    if not rows:
        return {}
    n = len(data.columns)
    minx = min(r[-4] for r in rows)
    miny = min(r[-3] for r in rows)
    maxx = max(r[-2] for r in rows)
    maxy = max(r[-1] for r in rows)
    pad = max(maxx - minx, maxy - miny, 0.01) * 0.05
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    # Degrees of longitude shrink with latitude: scale x so the map is not stretched.
    k = max(math.cos(math.radians((miny + maxy) / 2)), 0.05)
    width, height = (maxx - minx) * k, maxy - miny
    color_by = spec.style.color_by
    color_index = data.columns.index(color_by) if color_by in data.columns else None
    shapes = []
    for row in rows:
        color = (
            spec.style.color_for(row[color_index]) if color_index is not None else spec.style.color
        )
        shape: dict[str, Any] = {"colour": color, "tip": f"{row[0]} {row[1]}", "point": data.point}
        if data.point:
            shape |= {"x": f"{row[n] * k:.6f}", "y": f"{-row[n + 1]:.6f}"}
        else:
            shape |= {"d": str(row[n]), "fill_opacity": spec.style.fill_opacity}
        shapes.append(shape)
    height_px = int(MAP_WIDTH_PX * height / width) if width else MAP_WIDTH_PX
    return {
        "width": MAP_WIDTH_PX,
        "height": min(max(height_px, 200), 900),
        "view_box": f"{minx * k:.6f} {-maxy:.6f} {width:.6f} {height:.6f}",
        "radius": f"{max(width, height) / 120:.6f}",
        "k": f"{k:.6f}",
        "shapes": shapes,
    }


def _legend(spec: LayerSpec) -> dict[str, Any]:
    style = spec.style
    if not style.color_by or not style.colors:
        return {}
    items = [(style.labels.get(value, value), color) for value, color in style.colors.items()]
    return {"by": style.color_by, "entries": items}


def features_page(
    spec: LayerSpec,
    data: FeatureRows,
    links: Sequence[Mapping[str, Any]],
    notices: Sequence[str],
) -> str:
    n = len(data.columns)
    return render(
        TEMPLATES,
        "features.html",
        title=spec.title,
        description=spec.description,
        notices=list(notices),
        svg=_svg_map(spec, data, data.rows),
        legend=_legend(spec),
        page_links=list(links),
        columns=data.columns,
        rows=[row[:n] for row in data.rows],
        attribution=f"{spec.attribution} {spec.license}".strip(),
    )
