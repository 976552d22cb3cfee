"""What lies within reach of a place: the queries behind a visit map, in geodesic metres.

Each layer's features within reach and their distances come from the analyses' own measurement
(`gis.analysis.proximity`: the geodesic distance to the truly nearest point, edges straight in
lon/lat), so a visit map's labels agree with nearest, within and coverage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import shapely
import sqlalchemy as sa

from gis import search
from gis.analysis import proximity
from gis.analysis.common import active_clause
from gis.errors import InvalidParameter, NotFound
from gis.maps import names
from gis.maps.data import (
    DISTRICT,
    LOCAL,
    Extra,
    LayerData,
    Selection,
    by_id,
    collect,
    looked_up,
    ordered,
)
from gis.maps.sqltypes import FLOAT, IDS, NUMERIC, TEXT
from gis.roles import LayerRoles
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


def find_place(
    conn: sa.Connection,
    spec: LayerSpec,
    ref: str,
    *,
    district: str | None = None,
    districts: LayerSpec | None = None,
    role: Role = Role.public,
) -> Place:
    """A village by id, or by name in any language or spelling (gis.search); a name several places
    share is refused with every candidate and its district, unless `district` picks one."""
    ref = ref.strip()
    if not ref:
        raise InvalidParameter("village is empty: give a village id or name")
    if ref.isdigit():
        t = spec.table
        district_col = t.c.district_name if "district_name" in t.c else sa.null()
        row = conn.execute(
            sa.select(t.c.id, t.c.name, district_col.label("district"),
                      sa.func.ST_X(t.c.geom), sa.func.ST_Y(t.c.geom))
            .where(t.c.deleted_at.is_(None), t.c.id == int(ref))
        ).first()  # fmt: skip
        if row is None:
            raise NotFound(f"no village '{ref}'")
        return Place(
            lon=float(row[3]), lat=float(row[4]), name=row.name, district=row.district,
            id=int(row.id),
        )  # fmt: skip
    hit = search.find_one(conn, spec, role, ref, districts=districts, district=district)
    return Place(lon=hit.lon, lat=hit.lat, name=hit.label(), district=hit.district, id=hit.id)


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
    """`850 m`, `1.2 km`, or that the point lies inside. From 999.5 m on in km: rounded to whole
    metres it would be 1000, which the metres' format cannot show (`### m`)."""
    return sa.case(
        (metres < 0.5, "0 m (the centre is inside)"),
        (
            metres < 999.5,
            sa.func.to_char(sa.func.round(sa.cast(metres, NUMERIC)), "FM990") + " m",
        ),
        else_=sa.func.to_char(sa.cast(metres, NUMERIC) / 1000, "FM999,990.0") + " km",
    )


COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def bearing_text(bearing_deg: float | None) -> str:
    """`123° (SE)` from the centre to the feature's nearest point (the geodesic azimuth the
    analyses measure), or a dash when the centre lies inside."""
    if bearing_deg is None:
        return "—"
    sector = int((bearing_deg + 22.5) // 45) % 8
    return f"{round(bearing_deg) % 360}° ({COMPASS[sector]})"


def visit(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    place: Place,
    radius_m: float,
    roles: LayerRoles | None = None,
    lang: str = names.DEFAULT_LANG,
) -> Visit:
    """Every layer that matters for a visit, within `radius_m` of the place, each feature with its
    distance; plus the last risk-education session within reach, drawn on its own. Besides the
    layers that play a role (districts, hazards, places, facilities, sessions), every other
    activity layer the registry holds is drawn and counted, so a new layer needs no edit here."""
    roles = roles or LayerRoles.defaults(registry)
    check_point(place.lon, place.lat, radius_m)
    point = shapely.Point(place.lon, place.lat)
    reached: dict[str, list[tuple[int, float, float | None]]] = {}
    # Each layer's expressions are built once and shared by its statements: a statement that
    # uses one twice sends its (for 2,500 sessions, 60 kB) parameter once.
    built: dict[tuple[str, str], sa.ColumnElement] = {}

    def measured(spec: LayerSpec) -> list[tuple[int, float, float | None]]:
        """(id, distance, bearing) of the features within reach, measured once per layer."""
        if spec.name not in reached:
            ids, shapes = proximity.around(conn, spec, point, radius_m)
            found = proximity.measured(point, ids, shapes)
            reached[spec.name] = [r for r in found if r[1] <= radius_m]
        return reached[spec.name]

    def once(spec: LayerSpec, what: str, build: Callable[[], sa.ColumnElement]) -> sa.ColumnElement:
        if (spec.name, what) not in built:
            built[spec.name, what] = build()
        return built[spec.name, what]

    def figure(
        spec: LayerSpec, values: list[object], kind: sa.types.TypeEngine
    ) -> sa.ColumnElement:
        """Each feature's value, by its id (data.by_id: one JSON object per statement)."""
        document = by_id({r[0]: v for r, v in zip(measured(spec), values, strict=True)})
        return sa.cast(looked_up(document, spec), kind)

    def metres(spec: LayerSpec) -> sa.ColumnElement:
        return once(spec, "m", lambda: figure(spec, [r[1] for r in measured(spec)], FLOAT))

    def within(spec: LayerSpec) -> sa.ColumnElement:
        # one array parameter, not one bound value per feature (thousands of sessions)
        def build() -> sa.ColumnElement:
            ids = sa.literal([r[0] for r in measured(spec)], IDS)
            return spec.table.c.id == sa.func.any(ids)

        return once(spec, "within", build)

    def distance(spec: LayerSpec) -> Extra:
        text = once(spec, "distance", lambda: distance_text(metres(spec)))
        return Extra("distance", "Distance from the centre", text)

    def bearing(spec: LayerSpec) -> Extra:
        texts: list[object] = [bearing_text(r[2]) for r in measured(spec)]
        return Extra("bearing", "Bearing from the centre", figure(spec, texts, TEXT))

    selection = Selection()
    result = Visit(place, radius_m, selection, None, None, None, None, None)
    for spec in (roles.areas, roles.hazards, roles.places, roles.facilities, roles.activities):
        if not spec.readable_by(role):
            selection.hidden.append(spec.title)
            continue
        if spec is roles.areas:
            selection.layers.append(
                collect(conn, spec, role, DISTRICT, where=[within(spec)], lang=lang)
            )
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
            # hazard areas labelled with their distance (map.js adds the status); places with
            # their names, in the map's language
            label_key="distance"
            if spec is roles.hazards
            else (
                "_n" if spec is roles.places and names.local_name(spec, lang) is not None else None
            ),
            lang=lang,
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
            last = _last(conn, spec, role, within(spec), measured(spec), lang)
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
            lang=lang,
        )
        selection.layers.append(layer)
        # the features drawn are those measured (live ones within reach): the nearest is theirs
        nearest = min((r[1] for r in measured(spec)), default=None)
        result.others.append(Within(spec, layer.count, nearest))
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
    measured: list[tuple[int, float, float | None]],
    lang: str = names.DEFAULT_LANG,
) -> tuple[LastSession, LayerData] | None:
    """The latest session within reach, the nearest of that day's (then the lowest id): the
    database gives that day's sessions, their distances are those already measured."""
    t = spec.table
    when = t.c[spec.temporal_field or "id"]
    place = t.c.place_name if "place_name" in t.c else sa.null()
    live = (t.c.deleted_at.is_(None), within)
    latest = sa.select(sa.func.max(when)).where(*live).scalar_subquery()
    rows = conn.execute(sa.select(t.c.id, when, place).where(*live, when == latest)).all()
    if not rows:
        return None
    metres = {r[0]: r[1] for r in measured}
    row = min(rows, key=lambda r: (metres[r[0]], r[0]))
    distance = Extra(
        "distance", "Distance from the centre", distance_text(sa.literal(metres[row[0]], FLOAT))
    )
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
        lang=lang,
    )
    return LastSession(row[1], row[2], float(metres[row[0]])), layer
