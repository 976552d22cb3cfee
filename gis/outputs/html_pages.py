"""Readable HTML pages: any API document, and a page of features with a small map.

The map is an inline SVG drawn from geometry PostGIS renders (ST_AsSVG), so the page works
offline and loads no script or stylesheet from anywhere. Every text shown is escaped: names and
notes come from imported files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import orjson
import sqlalchemy as sa

from gis.items import export_select, export_values
from gis.query import ItemsQuery
from gis.spec import LayerSpec

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:72rem;padding:0 1rem;color:#222}
h1{font-size:1.5rem}table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.notice{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem .75rem;
margin:.5rem 0;font-weight:600}.links a{margin-right:1rem}svg{border:1px solid #ccc;background:#fafafa;
max-width:100%;height:auto}dl{margin:0 0 0 1rem}dt{font-weight:600}small{color:#555}
"""
MAP_WIDTH_PX = 720


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)} — SafeGround</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>"
    )


def _links(links: Sequence[Mapping[str, Any]]) -> str:
    items = []
    for link in links:
        label = link.get("title") or link.get("rel", "")
        items.append(
            f"<li><a href='{escape(str(link['href']))}'>{escape(str(label))}</a> "
            f"<small>{escape(str(link.get('rel', '')))} · {escape(str(link.get('type', '')))}</small></li>"
        )
    return f"<ul class='links'>{''.join(items)}</ul>" if items else ""


def _value(value: Any) -> str:
    if isinstance(value, Mapping):
        rows = "".join(
            f"<dt>{escape(str(k))}</dt><dd>{_value(v)}</dd>"
            for k, v in value.items()
            if k != "links"
        )
        return f"<dl>{rows}</dl>"
    if isinstance(value, list):
        if value and all(isinstance(v, Mapping) and "href" in v for v in value):
            return _links(value)
        return "<ul>" + "".join(f"<li>{_value(v)}</li>" for v in value) + "</ul>"
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return f"<a href='{escape(value)}'>{escape(value)}</a>"
    return escape("" if value is None else str(value))


def document_page(title: str, doc: Mapping[str, Any], notices: Sequence[str] = ()) -> str:
    """Any JSON document of the API (landing page, collections, queryables…) as HTML."""
    body = f"<h1>{escape(title)}</h1>"
    body += "".join(f"<p class='notice'>{escape(n)}</p>" for n in notices)
    if doc.get("description"):
        body += f"<p>{escape(str(doc['description']))}</p>"
    body += _links(doc.get("links", []))
    body += _value({k: v for k, v in doc.items() if k not in ("title", "description")})
    return page(title, body)


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


def _svg_map(spec: LayerSpec, data: FeatureRows, rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return ""
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
    radius = max(width, height) / 120
    color_by = spec.style.color_by
    color_index = data.columns.index(color_by) if color_by in data.columns else None
    shapes = []
    for row in rows:
        color = (
            spec.style.color_for(row[color_index]) if color_index is not None else spec.style.color
        )
        tip = escape(f"{row[0]} {row[1]}")
        if data.point:
            x, y = row[n], row[n + 1]
            shapes.append(
                f"<circle cx='{x * k:.6f}' cy='{-y:.6f}' r='{radius:.6f}' fill='{escape(color)}' "
                f"fill-opacity='0.8'><title>{tip}</title></circle>"
            )
        else:
            shapes.append(
                f"<path d='{escape(str(row[n]))}' transform='scale({k:.6f},1)' fill='{escape(color)}' "
                f"fill-opacity='{spec.style.fill_opacity}' stroke='{escape(color)}' "
                f"vector-effect='non-scaling-stroke'><title>{tip}</title></path>"
            )
    height_px = int(MAP_WIDTH_PX * height / width) if width else MAP_WIDTH_PX
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' role='img' aria-label='map of these features' "
        f"width='{MAP_WIDTH_PX}' height='{min(max(height_px, 200), 900)}' "
        f"viewBox='{minx * k:.6f} {-maxy:.6f} {width:.6f} {height:.6f}' preserveAspectRatio='xMidYMid meet'>"
        + "".join(shapes)
        + "</svg>"
    )


def _legend(spec: LayerSpec) -> str:
    style = spec.style
    if not style.color_by or not style.colors:
        return ""
    items = "".join(
        f"<li><span style='color:{escape(color)}'>■</span> {escape(style.labels.get(value, value))}</li>"
        for value, color in style.colors.items()
    )
    return f"<p><strong>{escape(style.color_by)}</strong></p><ul>{items}</ul>"


def features_page(
    spec: LayerSpec,
    data: FeatureRows,
    links: Sequence[Mapping[str, Any]],
    notices: Sequence[str],
) -> str:
    rows = data.rows
    body = f"<h1>{escape(spec.title)}</h1><p>{escape(spec.description)}</p>"
    body += "".join(f"<p class='notice'>{escape(n)}</p>" for n in notices)
    body += _svg_map(spec, data, rows) + _legend(spec)
    body += _links(links)
    head = "".join(f"<th>{escape(c)}</th>" for c in data.columns)
    n = len(data.columns)
    cells = "".join(
        "<tr>"
        + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row[:n])
        + "</tr>"
        for row in rows
    )
    body += f"<p>{len(rows)} feature(s)</p><table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
    if spec.attribution or spec.license:
        body += f"<p><small>{escape(spec.attribution)} {escape(spec.license)}</small></p>"
    return page(spec.title, body)
