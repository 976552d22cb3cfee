"""What lies within reach of a place: the queries behind a visit map, in geodesic metres.

Each layer's features within reach and their distances come from the analyses' own measurement
(`gis.analysis.proximity`: the geodesic distance to the truly nearest point, edges straight in
lon/lat), so a visit map's labels agree with nearest, within and coverage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from gis.analysis import proximity
from gis.analysis.common import active_clause
from gis.errors import InvalidParameter, NotFound
from gis.maps.data import DISTRICT, LOCAL, Extra, LayerData, Roles, Selection, collect
from gis.spec import LayerSpec, Registry, Role

MIN_RADIUS_M = 50.0
MAX_RADIUS_M = 50_000.0
DEFAULT_RADIUS_M = 5_000.0


@dataclass(frozen=True)
class Place:
    lon: float
    lat: float
    name: str | None = None
    district: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class LastSession:
    held_on: dt.date
    place_name: str | None
    distance_m: float


@dataclass
class Visit:
    place: Place
    radius_m: float
    selection: Selection
    hazards_within: int | None  # None: the caller may not see hazard areas
    active_within: int | None
    nearest_active_m: float | None
    last_session: LastSession | None
    facilities_within: int | None


def find_place(conn: sa.Connection, spec: LayerSpec, ref: str) -> Place:
    """A village by id, or by name (Latin or local) when that name is unique."""
    t = spec.table
    ref = ref.strip()
    if not ref:
        raise InvalidParameter("village is empty: give a village id or name")
    match = (
        t.c.id == int(ref)
        if ref.isdigit()
        else sa.or_(
            *(sa.func.lower(t.c[c]) == ref.lower() for c in (spec.name_fields or ("name",)))
        )
    )
    district = t.c.district_name if "district_name" in t.c else sa.null()
    rows = conn.execute(
        sa.select(
            t.c.id,
            t.c.name,
            district.label("district"),
            sa.func.ST_X(t.c.geom),
            sa.func.ST_Y(t.c.geom),
        )
        .where(t.c.deleted_at.is_(None), match)
        .order_by(t.c.id)
        .limit(11)
    ).all()
    if not rows:
        raise NotFound(f"no village '{ref}'")
    if len(rows) > 1:
        listed = ", ".join(f"{r.id} ({r.district or 'no district'})" for r in rows[:10])
        raise InvalidParameter(
            f"{len(rows) if len(rows) <= 10 else 'more than 10'} villages are named '{ref}': "
            f"give the id, one of {listed}"
        )
    row = rows[0]
    return Place(
        lon=float(row[3]), lat=float(row[4]), name=row.name, district=row.district, id=int(row.id)
    )


def check_point(lon: float, lat: float, radius_m: float) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidParameter(
            f"lon {lon}, lat {lat} is not a position: lon must be in ±180, lat in ±90"
        )
    if not (MIN_RADIUS_M <= radius_m <= MAX_RADIUS_M):
        raise InvalidParameter(
            f"radius_m must be between {MIN_RADIUS_M:g} and {MAX_RADIUS_M:g} metres"
        )


def distance_text(metres: sa.ColumnElement) -> sa.ColumnElement:
    """`850 m`, `1.2 km`, or that the point lies inside."""
    return sa.case(
        (metres < 0.5, "0 m (the centre is inside)"),
        (
            metres < 1000,
            sa.func.to_char(sa.func.round(sa.cast(metres, sa.Numeric)), "FM990") + " m",
        ),
        else_=sa.func.to_char(sa.cast(metres, sa.Numeric) / 1000, "FM999,990.0") + " km",
    )


def visit(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    place: Place,
    radius_m: float,
    roles: Roles = Roles(),
) -> Visit:
    """Every layer that matters for a visit, within `radius_m` of the place, each feature with its
    distance; plus the last risk-education session within reach, drawn on its own."""
    check_point(place.lon, place.lat, radius_m)
    point = shapely.Point(place.lon, place.lat)
    reached: dict[str, tuple[list[int], list[float]]] = {}

    def measured(spec: LayerSpec) -> tuple[list[int], list[float]]:
        if spec.name not in reached:
            ids, shapes = proximity.around(conn, spec, point, radius_m)
            found = [r for r in proximity.measured(point, ids, shapes) if r[1] <= radius_m]
            reached[spec.name] = ([r[0] for r in found], [r[1] for r in found])
        return reached[spec.name]

    def metres(spec: LayerSpec) -> sa.ColumnElement:
        ids, distances = measured(spec)
        position = sa.func.array_position(sa.literal(ids, ARRAY(sa.BigInteger)), spec.table.c.id)
        return sa.func.coalesce(sa.literal(distances, ARRAY(sa.Float)))[position]

    def within(spec: LayerSpec) -> sa.ColumnElement:
        return spec.table.c.id.in_(measured(spec)[0])

    def distance(spec: LayerSpec) -> Extra:
        return Extra("distance", "Distance from the centre", distance_text(metres(spec)))

    selection = Selection()
    result = Visit(place, radius_m, selection, None, None, None, None, None)
    for name in (roles.boundaries, roles.hazards, roles.places, roles.facilities, roles.outreach):
        spec = registry[name]
        if not spec.readable_by(role):
            selection.hidden.append(spec.title)
            continue
        if name == roles.boundaries:
            selection.layers.append(collect(conn, spec, role, DISTRICT, where=[within(spec)]))
            continue
        by_distance = (metres(spec), False)
        layer = collect(
            conn,
            spec,
            role,
            LOCAL,
            where=[within(spec)],
            extra=[distance(spec)],
            order=by_distance,
            label_key="distance" if name == roles.hazards else None,
        )
        selection.layers.append(layer)
        if name == roles.hazards:
            result.hazards_within = layer.count
            result.active_within, result.nearest_active_m = _active(
                conn, spec, within(spec), metres(spec)
            )
        elif name == roles.facilities:
            result.facilities_within = layer.count
        elif name == roles.outreach and spec.temporal_field:
            last = _last(conn, spec, role, within(spec), metres(spec), distance(spec))
            if last is not None:
                result.last_session, layer_last = last
                selection.layers.append(layer_last)
    return result


def _active(
    conn: sa.Connection, spec: LayerSpec, within: sa.ColumnElement, metres: sa.ColumnElement
) -> tuple[int, float | None]:
    """How many of the features within reach are still dangerous (the spec's `active_filter`), and
    the distance to the nearest."""
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.min(metres)).where(active_clause(spec), within)
    ).one()
    return int(row[0]), None if row[1] is None else float(row[1])


def _last(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    within: sa.ColumnElement,
    metres: sa.ColumnElement,
    distance: Extra,
) -> tuple[LastSession, LayerData] | None:
    t = spec.table
    when = t.c[spec.temporal_field or "id"]
    place = t.c.place_name if "place_name" in t.c else sa.null()
    row = conn.execute(
        sa.select(t.c.id, when, place, metres)
        .where(t.c.deleted_at.is_(None), within)
        .order_by(when.desc(), metres, t.c.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    layer = collect(
        conn,
        spec,
        role,
        LOCAL,
        where=[t.c.id == row[0]],
        extra=[distance],
        title="Last risk-education session within reach",
        emphasis=True,
        key=f"{spec.name}_last",
        label_key=spec.temporal_field,
    )
    return LastSession(row[1], row[2], float(row[3])), layer
