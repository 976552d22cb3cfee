"""What every analysis shares: checked parameters, GeoJSON inputs, time windows, output helpers.

Parameters are checked here, before any SQL runs, so a bad request does no work and its error names
the parameter; `api/` and the CLI only pass values through.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import shapely
import shapely.errors
import shapely.geometry
import sqlalchemy as sa
from pyproj import Geod

from gis.analysis.sql import quote
from gis.errors import InvalidParameter
from gis.notices import NOT_SAFE
from gis.outputs.formula_guard import guard_cell
from gis.spec import LayerSpec, Role

GEOD = Geod(ellps="WGS84")
DEFAULT_WINDOW_DAYS = 365
EARLIEST_DAY, LATEST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)  # a window beyond is a typo
MAX_K = 1000
MAX_VERTICES = 10_000
NO_DATA_NOTICE = NOT_SAFE  # the one wording (gis/notices.py)
# What the answers mean, said once for the OpenAPI descriptions and the CLI help.
DISTANCE_RULE = (
    "Distances are geodesic metres on the WGS 84 ellipsoid to the truly nearest point of each "
    "geometry, for any shape (concave, multipart, holes, long edges), within 5 mm; 0 inside a "
    "polygon. Polygon and line edges are straight lines in longitude/latitude, as GeoJSON "
    "(RFC 7946) and the maps draw them."
)
TIME_RULE = (
    "Hazard areas count as they stood on `until` (today without a window): recorded on or "
    "before it, and active then — status suspected or confirmed, or a later status (cleared, "
    "reduced, cancelled) that took effect only after `until`. The window applies to the `by` "
    "features."
)


def active_sql(
    alias: str, spec: LayerSpec, params: dict[str, object], as_of: dt.date | None = None
) -> str:
    """THE active-hazard condition, the only one, on the row `alias` (its values go into
    `params`, bound, never inlined): a live feature that is still dangerous.

    Without `as_of`: its current status is one of the spec's `active_filter` values. With it
    (the time rule: hazard status as of the analysis's `until`): it had been recorded by then
    (`temporal_field` on or before `as_of`), and either its status is active or that status took
    effect only after `as_of` (`status_changed_field`) — SafeGround does not keep earlier statuses
    yet, and land is released (cancelled, reduced, cleared) only from an active status, so on
    `as_of` it was still active.
    """
    prefix = f"active_{alias.strip(chr(34))}"
    status = []
    for i, (column, values) in enumerate(sorted(spec.active_filter.items())):
        params[f"{prefix}_{i}"] = list(values)
        status.append(f"{alias}.{quote(column)} = ANY(:{prefix}_{i})")
    dangerous = " AND ".join(status) or "true"
    conditions = [f"{alias}.deleted_at IS NULL"]
    if as_of is not None:
        params[f"{prefix}_as_of"] = as_of
        day = f"CAST(:{prefix}_as_of AS date)"
        if spec.temporal_field:
            recorded = f"{alias}.{quote(spec.temporal_field)}"
            conditions.append(f"({recorded} IS NULL OR {recorded} <= {day})")
        if spec.status_changed_field and status:
            dangerous = f"{dangerous} OR {alias}.{quote(spec.status_changed_field)} > {day}"
    return " AND ".join([*conditions, f"({dangerous})"])


def active_clause(spec: LayerSpec, as_of: dt.date | None = None) -> sa.TextClause:
    """`active_sql` on the spec's own table, for SQLAlchemy Core statements (the maps)."""
    params: dict[str, object] = {}
    text = active_sql(quote(spec.table.name), spec, params, as_of)
    return sa.text(text).bindparams(**params)


def distance_m(name: str, value: float, cap_m: float, *, allow_zero: bool = True) -> float:
    """A distance parameter in metres, finite, not negative and at most the configured cap.

    Kept to the millimetre: finer means nothing on the ground, and a denormal float would make
    PostgreSQL's arithmetic underflow.
    """
    if math.isfinite(value):
        value = round(value, 3)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise InvalidParameter(
            f"{name} must be a {'non-negative' if allow_zero else 'positive'} "
            f"distance in metres, not {value}"
        )
    if value > cap_m:
        raise InvalidParameter(
            f"{name} is {value:,.0f} m; analyses are capped at {cap_m:,.0f} m "
            "(SAFEGROUND_ANALYSIS_MAX_DISTANCE_M)"
        )
    return float(value)


def nearest_count(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise InvalidParameter(f"k must be between 1 and {MAX_K}, not {k}")
    return k


def lon_lat(lon: float, lat: float, name: str = "") -> tuple[float, float]:
    """A longitude/latitude pair in range (WGS 84 degrees)."""
    prefix = f"{name}: " if name else ""
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise InvalidParameter(f"{prefix}lon must be a longitude between -180 and 180, not {lon}")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise InvalidParameter(f"{prefix}lat must be a latitude between -90 and 90, not {lat}")
    return float(lon), float(lat)


@dataclass(frozen=True)
class Window:
    """A closed range of days on a layer's temporal field: since <= day <= until."""

    since: dt.date
    until: dt.date

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @classmethod
    def of(
        cls, since: dt.date | None, until: dt.date | None, today: dt.date | None = None
    ) -> Window:
        """The window asked for; by default the last 365 days up to `until`, itself today."""
        until = until or today or dt.date.today()
        for name, day in (("since", since), ("until", until)):
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                raise InvalidParameter(
                    f"{name} must fall between {EARLIEST_DAY} and {LATEST_DAY}, not {day}"
                )
        since = since or until - dt.timedelta(days=DEFAULT_WINDOW_DAYS - 1)
        if since > until:
            raise InvalidParameter(
                f"since ({since.isoformat()}) is after until ({until.isoformat()})"
            )
        return cls(since, until)


def readable(spec: LayerSpec | None, role: Role) -> LayerSpec | None:
    """The spec if the role may read it, else None (callers answer as for an unknown layer)."""
    return spec if spec is not None and spec.readable_by(role) else None


# --- GeoJSON inputs ----------------------------------------------------------------------------


def geometry_from_geojson(
    body: Any, allowed: Iterable[str], name: str = "body"
) -> shapely.Geometry:
    """The geometry of a GeoJSON Feature or bare geometry, checked: type, ranges, validity, size."""
    allowed = tuple(allowed)
    if isinstance(body, Mapping) and body.get("type") == "Feature":
        body = body.get("geometry")
    if not isinstance(body, Mapping) or "type" not in body:
        raise InvalidParameter(
            f"{name} must be a GeoJSON Feature or geometry ({', '.join(allowed)})"
        )
    kind = body.get("type")
    if kind not in allowed:
        raise InvalidParameter(
            f"{name} is a GeoJSON {str(kind)[:40]!r}; expected {' or '.join(allowed)}"
        )
    positions = _positions(
        body.get("coordinates"), {"Point": 0, "LineString": 1, "Polygon": 2}[kind], name
    )
    if len(positions) > MAX_VERTICES:
        raise InvalidParameter(
            f"{name} has {len(positions):,} positions; at most {MAX_VERTICES:,} are accepted"
        )
    for i, (lon, lat) in enumerate(positions):
        lon_lat(lon, lat, f"{name} position {i + 1}")
    try:
        geometry = shapely.geometry.shape({"type": kind, "coordinates": body["coordinates"]})
    except (ValueError, TypeError, shapely.errors.ShapelyError) as exc:
        raise InvalidParameter(f"{name} is not a valid {kind}: {exc}") from None
    if kind == "LineString" and len({tuple(p) for p in positions}) < 2:
        raise InvalidParameter(f"{name}: a LineString needs at least two distinct points")
    if kind == "Polygon" and not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise InvalidParameter(f"{name} is not a valid Polygon: {reason}")
    return shapely.force_2d(geometry)


def _positions(coordinates: Any, depth: int, name: str) -> list[tuple[float, float]]:
    """Flatten GeoJSON coordinates of the given nesting depth, refusing anything that is not numbers."""

    def position(p: Any) -> tuple[float, float]:
        if (
            not isinstance(p, list | tuple)
            or len(p) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p[:2])
        ):
            raise InvalidParameter(f"{name}: every position must be [lon, lat] numbers")
        return float(p[0]), float(p[1])

    if depth == 0:
        return [position(coordinates)]
    if not isinstance(coordinates, list | tuple) or not coordinates:
        raise InvalidParameter(f"{name}: coordinates are missing or empty")
    out: list[tuple[float, float]] = []
    for part in coordinates:
        out += _positions(part, depth - 1, name)
        if len(out) > MAX_VERTICES:
            break
    if depth == 1 and len(coordinates) < 2:
        raise InvalidParameter(f"{name}: a line or ring needs at least two positions")
    return out


def geodesic_length_m(line: shapely.LineString) -> float:
    return float(GEOD.geometry_length(line))


# --- outputs -----------------------------------------------------------------------------------


def json_object_sql(pairs: list[tuple[str, str]]) -> str:
    """`json_build_object` of (key, SQL expression) pairs; keys are identifiers from specs or ours.

    PostgreSQL functions take at most 100 arguments, so wide objects are merged from jsonb chunks
    (which loses key order, so only layers with more than 50 properties pay that).
    """

    def build(chunk: list[tuple[str, str]]) -> str:
        return "json_build_object(" + ", ".join(f"'{k}', {v}" for k, v in chunk) + ")"

    if len(pairs) <= 50:
        return build(pairs)
    chunks = [build(pairs[i : i + 50]) + "::jsonb" for i in range(0, len(pairs), 50)]
    return "(" + " || ".join(chunks) + ")::json"


def properties_sql(spec: LayerSpec, fields: tuple[str, ...], alias: str) -> list[tuple[str, str]]:
    """(key, expression) pairs of a layer row's identity and visible properties."""
    return [(f, f"{alias}.{quote(f)}") for f in ("external_id", *fields, "source")]


def with_figures(
    properties: list[tuple[str, str]], figures: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """A feature's own properties, then the analysis figures whose names it does not already use.

    JSON objects must not repeat a key, and a layer's own data is never shadowed (a village's
    recorded district_code stays; its population is the same value either way).
    """
    taken = {key for key, _ in properties}
    return [*properties, *((k, v) for k, v in figures if k not in taken)]


def csv_text(collection: bytes | str, leading: tuple[str, ...] = ()) -> str:
    """A FeatureCollection as CSV: id, lon/lat of points (or a WKT geometry), then the properties.

    Columns are the union of the features' properties in first-seen order, `leading` first.
    """
    data = orjson.loads(collection)
    features = data.get("features") or []
    columns: dict[str, None] = dict.fromkeys(leading)
    for f in features:
        columns.update(dict.fromkeys(f.get("properties") or {}))
    points = all((f.get("geometry") or {}).get("type") == "Point" for f in features)
    geo_columns = ["lon", "lat"] if points else ["wkt"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", *geo_columns, *columns])
    for f in features:
        geometry, props = f.get("geometry"), f.get("properties") or {}
        if points:
            where = geometry["coordinates"][:2]
        else:
            where = [shapely.geometry.shape(geometry).wkt if geometry else ""]
        writer.writerow([f.get("id"), *where, *(_cell(props.get(c)) for c in columns)])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    if isinstance(value, str):
        return guard_cell(value)  # a name beginning with = must not run in a spreadsheet
    return value


def custom_plans(conn: sa.Connection) -> None:
    """Plan each analysis for its own values (a generic plan cannot know a window is empty).

    psycopg prepares a statement after a few runs, and PostgreSQL may then reuse one generic plan;
    for these queries the right plan depends on the distances and dates given.
    """
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
