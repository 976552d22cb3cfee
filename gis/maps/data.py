"""Map data from PostgreSQL: each layer's features packed by the database (packing.py), display-ready.

Values arrive formatted (readable dates, grouped digits, units, enum codes as words) so the page
only shows them; it shows them as text (`textContent`), never as HTML. Polygons are simplified for
display by scale (never dropped: a narrow one is drawn as a box of the scale's size), so Python
never touches a feature.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from gis.areas import Area
from gis.maps import names, packing
from gis.maps.sqltypes import INTEGER, JSONB_OBJECT, NUMERIC, TEXT
from gis.notices import is_synthetic
from gis.roles import LayerRoles
from gis.spec import LayerSpec, Registry, Role, Style

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Detail:
    """How much detail a map needs: polygons are simplified to about a screen pixel at the zoom the
    map opens at (tolerance in degrees: it only shapes the drawing, never a measurement)."""

    name: str
    tolerance_deg: float
    digits: int


# Coordinates rounded to about a tenth of the tolerance (4 digits: 11 m at most at the national one).
NATIONAL = Detail("national", 0.001, 4)
DISTRICT = Detail("district", 0.0002, 5)
# Visit and route maps carry exact geometry: the locate button measures to it (within 1 % of the
# server), and the facts table and popups describe the stored shapes.
LOCAL = Detail("local", 0.0, 7)
# megabytes opens slowly on a phone, and a district or a date shows the rest).
MAX_POINTS = 15_000


@dataclass(frozen=True)
class Extra:
    """A computed property added to every feature: a display-ready text expression."""

    key: str
    label: str
    expr: sa.ColumnElement


@dataclass(frozen=True)
class LayerData:
    """One layer of a map: the FeatureCollection PostgreSQL built, and what to say about it."""

    spec: LayerSpec
    packed: str  # the features, as map.js's SG.add reads them (see collect)
    count: int
    popup_fields: tuple[str, ...]
    labels: dict[str, str]
    tooltip: str | None  # the popup field that also serves as tooltip
    synthetic: bool
    latest_update: dt.datetime | None
    bounds: tuple[float, float, float, float] | None
    title: str
    label_key: str | None = None  # a property drawn as a permanent label (e.g. a distance)
    key: str = ""  # CSS and config key; the spec name unless one layer is drawn twice
    style: Style | None = None  # instead of the spec's (e.g. coverage: coloured by `covered`)
    truncated: bool = False  # only the most recent MAX_POINTS features are drawn
    emphasis: bool = False  # drawn larger, above the rest (e.g. the last session within reach)
    # How far a drawn outline may stray from the stored one (display simplification), in metres.
    tolerance_m: float = 0.0
    tiled: bool = False  # drawn from the layer's vector tiles (a served page), not inline


@dataclass
class Selection:
    """The layers a caller may see, and the titles of those they may not (the map says so)."""

    layers: list[LayerData] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


def field_label(name: str) -> str:
    """`recorded_on` → "Recorded on"; a unit suffix goes, the value carries the unit."""
    special = {"name_az": "Name (Azerbaijani)", "source": "Source"}
    if name in special:
        return special[name]
    words = re.sub(r"_(m2|m)$", "", name).replace("_", " ")
    return words[:1].upper() + words[1:]


def display(spec: LayerSpec, name: str) -> sa.ColumnElement:
    """A column as the text a person reads: dates as "1 May 2024", numbers grouped, units shown,
    enum codes as words (or the style's legend label)."""
    column = spec.table.c[name]
    kind = column.type
    text: sa.ColumnElement
    if isinstance(kind, sa.Boolean):
        text = sa.case((column.is_(True), "Yes"), (column.is_(False), "No"))
    elif isinstance(kind, sa.Date):
        text = sa.func.to_char(column, "FMDD Mon YYYY")
    elif isinstance(kind, sa.DateTime):
        text = sa.func.to_char(sa.func.timezone("UTC", column), 'YYYY-MM-DD HH24:MI "UTC"')
    elif isinstance(kind, sa.Integer):
        text = sa.func.to_char(column, "FM999,999,999,990")
    elif isinstance(kind, sa.Float):
        text = number(column, name)
    else:
        text = _words(spec, name, sa.cast(column, TEXT))
    return text  # NULL stays null: the page shows a dash


def number(column: sa.ColumnElement, name: str = "") -> sa.ColumnElement:
    """Grouped digits; metres and square metres rounded to whole units, with the unit."""
    unit = next((u for suffix, u in (("_m2", " m²"), ("_m", " m")) if name.endswith(suffix)), None)
    if unit:
        return sa.func.to_char(sa.func.round(sa.cast(column, NUMERIC)), "FM999,999,999,990") + unit
    return sa.func.rtrim(sa.func.to_char(sa.cast(column, NUMERIC), "FM999,999,999,990.99"), ".")


def _words(spec: LayerSpec, name: str, text: sa.ColumnElement) -> sa.ColumnElement:
    """Enum codes (columns kept in range by an `_allowed` CHECK) read as words or legend labels."""
    if f"{name}_allowed" not in {c.name for c in spec.table.constraints}:
        return text
    words = sa.func.replace(text, "_", " ")
    labels = spec.style.labels if spec.style.color_by == name else {}
    if not labels:
        return words
    return sa.case(*((text == value, label) for value, label in labels.items()), else_=words)


def by_id(values: Mapping[int, object]) -> sa.ScalarSelect:
    """Values per feature id as one JSON object, bound once and read once per statement (a
    scalar subquery: an InitPlan, whatever plan the server chooses); `looked_up` reads a row's.
    A keyed lookup per row: an array_position in parallel arrays scanned the whole array for
    each row, 0.1 s for the 2,500 sessions within reach of a village."""
    document = json.dumps({str(i): v for i, v in values.items()}, default=str)
    return sa.select(sa.cast(sa.literal(document, TEXT), JSONB_OBJECT)).scalar_subquery()


def looked_up(document: sa.ScalarSelect, spec: LayerSpec, *path: str) -> sa.ColumnElement:
    """A row's value in `document` (`by_id`), as text: under its id, then `path` below it."""
    return sa.func.jsonb_extract_path_text(document, sa.cast(spec.table.c.id, TEXT), *path)


def popup_fields(spec: LayerSpec, role: Role) -> tuple[str, ...]:
    """The spec's popup fields the role may see (`source` is a common column, always visible)."""
    visible = set(spec.visible_fields(role)) | {"source"}
    return tuple(f for f in spec.popup_fields if f in visible)


def collect(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    scale: Detail,
    *,
    where: Sequence[sa.ColumnElement] = (),
    extra: Sequence[Extra] = (),
    order: tuple[sa.ColumnElement, bool] | None = None,
    limit: int | None = None,
    title: str | None = None,
    label_key: str | None = None,
    emphasis: bool = False,
    key: str | None = None,
    truncated: bool = False,
    tiled: bool = False,
    lang: str = names.DEFAULT_LANG,
) -> LayerData:
    """One statement: the layer's live features matching `where`, as a FeatureCollection (text),
    with their count, whether any is synthetic, the latest update and the extent. `tiled`: the
    page draws the layer from vector tiles, so the collection is left empty (the rest is not).
    `lang`: the language of place names (names.py) in labels, tooltips and popups; another than
    Azerbaijani comes first in the popup, above the names as recorded."""
    t = spec.table
    fields = popup_fields(spec, role)
    local = names.local_name(spec, lang)
    if local is not None and lang != names.DEFAULT_LANG:
        extra = [Extra("name_local", f"Name ({names.LANGUAGE[lang]})", local), *extra]
    geom: sa.ColumnElement = t.c.geom
    polygon = spec.geometry_type in ("Polygon", "MultiPolygon")
    # a tiled layer's geometry is only measured here (count, extent), never drawn: not simplified
    if spec.geometry_type != "Point" and scale.tolerance_deg > 0 and not tiled:
        geom = packing.shown_shape(t.c.geom, scale.tolerance_deg)
    if order is None:  # big polygons first, so small ones are drawn (and clickable) on top
        order = (
            (sa.func.ST_Area(t.c.geom), True) if spec.geometry_type != "Point" else (t.c.id, False)
        )
    props: list[tuple[str, sa.ColumnElement]] = [(f, display(spec, f)) for f in fields]
    props += [(e.key, e.expr) for e in extra]
    if local is not None:  # the name labels and tooltips show, never a popup row of its own
        props.append(("_n", local))
    if spec.style.color_by:
        props.append(("_k", t.c[spec.style.color_by]))  # a lookup key for the colour, never shown
    if spec.active_filter:  # still dangerous: what the locate button measures to
        props.append(("_a", sa.and_(*(t.c[c].in_(v) for c, v in spec.active_filter.items()))))
    tip = spec.tooltip_field if spec.tooltip_field in fields else None
    if tip == "name" and local is not None:
        tip = "_n"
    drawn = () if tiled else props  # a tiled layer's features are not in the page
    inner = sa.select(
        t.c.id.label("_id"),
        geom.label("_g"),
        t.c.source.label("_src"),
        t.c.updated_at.label("_upd"),
        order[0].label("_ord"),
        *(expr.label(f"p_{i}") for i, (_, expr) in enumerate(drawn)),
    ).where(t.c.deleted_at.is_(None), *where)
    if limit is not None:
        inner = inner.order_by(order[0].desc() if order[1] else order[0]).limit(limit)
    # Materialized when simplified: the simplified geometry is used several times below (filter,
    # coordinates, extent), and a flattened subquery would compute it once for each.
    f0: sa.Subquery | sa.CTE = (
        inner.subquery("f0") if geom is t.c.geom else inner.cte("f0").prefix_with("MATERIALIZED")
    )
    # Values repeated across features (codes, yes/no, the source) are sent once per layer: each
    # feature holds its value's index in the layer's list (`dicts`, by key), sorted as the rank.
    coded = [i for i, (name, _) in enumerate(drawn) if packing.repeated(spec, name)]
    f = (
        sa.select(
            f0,
            *(
                (sa.func.dense_rank().over(order_by=f0.c[f"p_{i}"]) - 1).label(f"c_{i}")
                for i in coded
            ),
        )
        .where(f0.c._g.is_not(None), sa.not_(sa.func.ST_IsEmpty(f0.c._g)))
        .subquery("f")
    )
    packed_shape = polygon and 0 < scale.digits <= packing.MAX_PACKED_DIGITS
    row_values: list[sa.ColumnElement] = [
        f.c._id,
        packing.shape_json(f.c._g, spec.geometry_type, scale.digits, packed_shape),
    ]
    row_values += [f.c[f"c_{i}"] if i in coded else f.c[f"p_{i}"] for i in range(len(drawn))]
    ordering = f.c._ord.desc() if order[1] else f.c._ord
    rows = (
        sa.text("'[]'::json")
        if tiled
        else sa.func.coalesce(
            sa.func.json_agg(aggregate_order_by(sa.func.json_build_array(*row_values), ordering)),
            sa.text("'[]'::json"),
        )
    )
    dicts: list[sa.ColumnElement] = []
    for i in coded:
        dicts += [
            _key(drawn[i][0]),
            sa.func.json_agg(aggregate_order_by(f.c[f"p_{i}"].distinct(), f.c[f"p_{i}"])),
        ]
    extent = sa.func.ST_Extent(f.c._g)
    row = conn.execute(
        sa.select(
            sa.cast(
                sa.func.json_build_object(
                    _key("keys"),
                    sa.func.json_build_array(*(_key(name) for name, _ in drawn)),
                    _key("dicts"),
                    sa.func.json_build_object(*dicts),
                    _key("packed"),
                    sa.literal(scale.digits, INTEGER) if packed_shape else sa.null(),
                    _key("rows"),
                    rows,
                ),
                TEXT,
            ),
            sa.func.count(),
            sa.func.coalesce(sa.func.bool_or(is_synthetic(f.c._src)), False),
            sa.func.max(f.c._upd),
            sa.func.ST_XMin(extent),
            sa.func.ST_YMin(extent),
            sa.func.ST_XMax(extent),
            sa.func.ST_YMax(extent),
        )
    ).one()
    bounds = (
        None if row[4] is None else (float(row[4]), float(row[5]), float(row[6]), float(row[7]))
    )
    labels = {f: field_label(f) for f in fields} | {e.key: e.label for e in extra}
    shown = [e.key for e in extra]
    if "name_local" in shown:  # the chosen language's name first, above the names as recorded
        shown.remove("name_local")
        fields = ("name_local", *fields)
    return LayerData(
        spec=spec,
        packed=row[0],
        count=int(row[1]),
        popup_fields=(*fields, *shown),
        labels=labels,
        tooltip=tip,
        synthetic=bool(row[2]),
        latest_update=row[3],
        bounds=bounds,
        title=title or spec.title,
        label_key=label_key,
        emphasis=emphasis,
        key=key or spec.name,
        truncated=truncated,
        # a degree of latitude is at most 111.7 km: the tolerance never understates
        tolerance_m=_tolerance_m(scale) if spec.geometry_type != "Point" else 0.0,
        tiled=tiled,
    )


def _tolerance_m(scale: Detail) -> float:
    """How far a drawn outline may stray from the stored one: the simplification plus the rounding
    of its coordinates (half a last digit each way); a degree is at most 111.7 km."""
    if scale.tolerance_deg <= 0:
        return 0.0
    return (scale.tolerance_deg + 0.5 * 10**-scale.digits * 2**0.5) * 111_700


def _key(name: str) -> sa.ColumnElement:
    """A JSON key as an SQL literal: keys come from specs and this module only."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return sa.literal_column(f"'{name}'", TEXT)


def overview(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    *,
    district: Area | None = None,
    since: dt.date | None = None,
    roles: LayerRoles | None = None,
    tile_above: int | None = None,
    lang: str = names.DEFAULT_LANG,
) -> Selection:
    """Every layer the role may read, limited to a district's area and, for activities, to records
    since a date. Hazard areas are never filtered by date: an old record of a hazard is still
    one. With `tile_above`, a national overview with no date draws each layer of more features
    than that from its vector tiles (the tiles hold the same features: every live one)."""
    roles = roles or LayerRoles.defaults(registry)
    scale = DISTRICT if district else NATIONAL
    area = None
    if district is not None:
        boundaries = roles.areas.table
        area = sa.select(boundaries.c.geom).where(boundaries.c.id == district.id).scalar_subquery()
    selection = Selection()
    for spec in ordered(registry):
        if not spec.readable_by(role):
            selection.hidden.append(spec.title)
            continue
        where: list[sa.ColumnElement] = []
        if area is not None:  # the district's own outline comes with its neighbours', for context
            where.append(sa.func.ST_Intersects(spec.table.c.geom, area))
        if since is not None and spec.temporal_field and spec.name != roles.hazards.name:
            where.append(spec.table.c[spec.temporal_field] >= since)
        # A protected layer's tiles are read with the served page's session cookie (the page's
        # requests carry no key); a tile that fails to load makes the page warn, never go blank.
        if tile_above is not None and not where and _more_than(conn, spec, tile_above):
            selection.layers.append(collect(conn, spec, role, scale, tiled=True, lang=lang))
            continue
        selection.layers.append(capped(conn, spec, role, scale, where, roles, lang))
    return selection


def _more_than(conn: sa.Connection, spec: LayerSpec, n: int) -> bool:
    t = spec.table
    probe = sa.select(t.c.id).where(t.c.deleted_at.is_(None)).limit(n + 1).subquery()
    return (conn.scalar(sa.select(sa.func.count()).select_from(probe)) or 0) > n


def capped(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    scale: Detail,
    where: list[sa.ColumnElement],
    roles: LayerRoles,
    lang: str = names.DEFAULT_LANG,
) -> LayerData:
    """The layer, or for an activity layer too big for one page its MAX_POINTS most recent
    features, saying so. Hazard areas and reference layers are never cut."""
    t = spec.table
    if spec.geometry_type != "Point" or spec.reference or spec.name == roles.hazards.name:
        return collect(conn, spec, role, scale, where=where, lang=lang)
    probe = (
        sa.select(t.c.id).where(t.c.deleted_at.is_(None), *where).limit(MAX_POINTS + 1).subquery()
    )
    if (conn.scalar(sa.select(sa.func.count()).select_from(probe)) or 0) <= MAX_POINTS:
        return collect(conn, spec, role, scale, where=where, lang=lang)
    newest = t.c[spec.temporal_field] if spec.temporal_field else t.c.id
    return collect(
        conn,
        spec,
        role,
        scale,
        where=where,
        order=(newest, True),
        limit=MAX_POINTS,
        title=f"{spec.title}, the {MAX_POINTS:,} most recent",
        truncated=True,
        lang=lang,
    )


def ordered(registry: Registry) -> list[LayerSpec]:
    """Drawing order: reference polygons, other polygons, reference points, then activities."""
    return sorted(registry.values(), key=lambda s: (s.geometry_type == "Point", not s.reference))


def union_bounds(layers: Sequence[LayerData]) -> tuple[float, float, float, float] | None:
    boxes = [layer.bounds for layer in layers if layer.bounds]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
