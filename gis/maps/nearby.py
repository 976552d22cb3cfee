"""What lies within reach of a place: the PostGIS queries behind a visit map, in geodesic metres.

`ST_DWithin` and `ST_Distance` on `geography` (matching the GiST index on each table's
`geography(geom)`), never degrees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import sqlalchemy as sa

from gis.errors import InvalidParameter, NotFound
from gis.maps.data import DISTRICT, LOCAL, Extra, LayerData, Selection, collect, ordered
from gis.roles import LayerRoles
from gis.spec import LayerSpec, Registry, Role, geography

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


@dataclass(frozen=True)
class Within:
    """How many features of a layer that plays no role lie within reach, and the nearest."""

    spec: LayerSpec
    count: int
    nearest_m: float | None


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
    others: list[Within] = field(default_factory=list)  # every other activity layer, by spec


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


COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def bearing_text(point: sa.ColumnElement, geom: sa.ColumnElement) -> sa.ColumnElement:
    """`123° (SE)` from the centre to the feature's nearest point (geodesic azimuth), or a dash
    when the centre lies inside."""
    nearest = sa.func.geography(sa.func.ST_ClosestPoint(geom, sa.func.geometry(point)))
    degrees = sa.func.degrees(sa.func.ST_Azimuth(point, nearest))
    whole = sa.cast(sa.func.round(degrees), sa.Integer) % 360
    sector = sa.cast(sa.func.floor((degrees + 22.5) / 45), sa.Integer) % 8 + 1
    compass = sa.func.split_part(",".join(COMPASS), ",", sector)
    return sa.case(
        (sa.func.ST_Intersects(geom, sa.func.geometry(point)), "—"),
        else_=sa.cast(whole, sa.Text) + "° (" + compass + ")",
    )


def visit(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    place: Place,
    radius_m: float,
    roles: LayerRoles | None = None,
) -> Visit:
    """Every layer that matters for a visit, within `radius_m` of the place, each feature with its
    distance; plus the last risk-education session within reach, drawn on its own. Besides the
    layers that play a role (districts, hazards, places, facilities, sessions), every other
    activity layer the registry holds is drawn and counted, so a new layer needs no edit here."""
    roles = roles or LayerRoles.defaults(registry)
    check_point(place.lon, place.lat, radius_m)
    point = sa.func.geography(sa.func.ST_SetSRID(sa.func.ST_MakePoint(place.lon, place.lat), 4326))

    def metres(spec: LayerSpec) -> sa.ColumnElement:
        return sa.func.ST_Distance(geography(spec.table.c.geom), point)

    def within(spec: LayerSpec) -> sa.ColumnElement:
        return sa.func.ST_DWithin(geography(spec.table.c.geom), point, radius_m)

    def distance(spec: LayerSpec) -> Extra:
        return Extra("distance", "Distance from the centre", distance_text(metres(spec)))

    def bearing(spec: LayerSpec) -> Extra:
        return Extra("bearing", "Bearing from the centre", bearing_text(point, spec.table.c.geom))

    selection = Selection()
    result = Visit(place, radius_m, selection, None, None, None, None, None)
    for spec in (roles.areas, roles.hazards, roles.places, roles.facilities, roles.activities):
        if not spec.readable_by(role):
            selection.hidden.append(spec.title)
            continue
        if spec is roles.areas:
            selection.layers.append(collect(conn, spec, role, DISTRICT, where=[within(spec)]))
            continue
        by_distance = (metres(spec), False)
        layer = collect(
            conn,
            spec,
            role,
            LOCAL,
            where=[within(spec)],
            extra=[distance(spec), *([bearing(spec)] if spec is roles.hazards else [])],
            order=by_distance,
            label_key="distance" if spec is roles.hazards else None,
        )
        selection.layers.append(layer)
        if spec is roles.hazards:
            result.hazards_within = layer.count
            result.active_within, result.nearest_active_m = _active(
                conn, spec, within(spec), metres(spec)
            )
        elif spec is roles.facilities:
            result.facilities_within = layer.count
        elif spec is roles.activities and spec.temporal_field:
            last = _last(conn, spec, role, within(spec), metres(spec), distance(spec))
            if last is not None:
                result.last_session, layer_last = last
                selection.layers.append(layer_last)
    played = {s.name for s in (roles.areas, roles.hazards, roles.places)}
    played |= {roles.facilities.name, roles.activities.name}
    for spec in ordered(registry):
        if spec.name in played or spec.reference:
            continue
        if not spec.readable_by(role):
            selection.hidden.append(spec.title)
            continue
        layer = collect(
            conn,
            spec,
            role,
            LOCAL,
            where=[within(spec)],
            extra=[distance(spec)],
            order=(metres(spec), False),
        )
        selection.layers.append(layer)
        nearest = conn.scalar(
            sa.select(sa.func.min(metres(spec))).where(
                spec.table.c.deleted_at.is_(None), within(spec)
            )
        )
        result.others.append(Within(spec, layer.count, None if nearest is None else float(nearest)))
    return result


def _active(
    conn: sa.Connection, spec: LayerSpec, within: sa.ColumnElement, metres: sa.ColumnElement
) -> tuple[int, float | None]:
    """How many of the features within reach are still dangerous (the spec's `active_filter`), and
    the distance to the nearest."""
    t = spec.table
    active = [t.c[column].in_(values) for column, values in spec.active_filter.items()]
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.min(metres)).where(
            t.c.deleted_at.is_(None), within, *active
        )
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
