"""Coverage: which targets (villages) near active hazards have had no `by` feature (risk-education
session) within reach in a time window — ranked by priority, summed up per district.

The work is one SQL statement, `coverage.sql`; this module checks the parameters, picks the fixed
SQL fragments the layers call for, and binds the values.

Priority, for a target at risk (0 for one that is not)::

    priority = (1 + log10(1 + population))                      more people, higher
             × (1 − nearest_hazard_m / risk_within_m)            nearer hazard, higher (1 without
                                                                 the risk condition)
             × min(1, days_since_last / window_days)             longer since the last `by`
                                                                 feature within reach; 1 if never

Figures that need the hazard layer (`nearest_hazard_m`, `hazards_within`) come only with the risk
condition, and `nearest_hazard_m` only for a hazard within `risk_within_m`; `nearest_by_m` is the
nearest `by` feature of the window within reach (so null when uncovered) and `last_by_on` the
latest within reach on or before `until`, whatever its age.

Unknown populations count as `unknown_population` (a setting, 500) in the score only. An uncovered
target's last `by` feature is older than the window, so its recency factor is 1; a covered one's is
below 1, which ranks it after uncovered targets of the same size and danger.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa

from gis.analysis.common import (
    NO_DATA_NOTICE,
    Window,
    active_condition,
    custom_plans,
    json_object_sql,
    properties_sql,
    quote,
    with_figures,
)
from gis.errors import Forbidden, InvalidParameter
from gis.spec import LayerSpec, Role

Status = Literal["uncovered", "covered", "all"]
STATUSES: tuple[Status, ...] = ("uncovered", "covered", "all")
SQL_FILE = Path(__file__).with_name("coverage.sql")

PRIORITY_FORMULA = (
    "priority = (1 + log10(1 + population)) × (1 − nearest_hazard_m / risk_within_m) × "
    "min(1, days_since_last / window_days), for targets at risk (0 otherwise); the proximity "
    "factor is 1 without the risk condition, the recency factor 1 when no `by` feature ever "
    "reached the target; an unknown population counts as the unknown_population setting (500)."
)


@functools.cache
def sql_blocks() -> dict[str, str]:
    """The named statements of coverage.sql (`-- name: x` starts block x)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in SQL_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("-- name: "):
            current = blocks.setdefault(line.removeprefix("-- name: ").strip(), [])
        elif current is not None and not line.lstrip().startswith("--"):
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in blocks.items()}


@dataclass(frozen=True)
class Coverage:
    """A checked coverage question; build it with `coverage_question`."""

    target: LayerSpec
    by: LayerSpec
    area: LayerSpec
    hazard: LayerSpec | None  # None without the risk condition: no hazard is read at all
    within_m: float
    risk_within_m: float | None
    window: Window | None  # None: `by` has no temporal field, every feature counts
    area_id: int | None
    area_label: str | None
    status: Status
    role: Role
    unknown_population: int


def coverage_question(
    *,
    target: LayerSpec,
    by: LayerSpec,
    area: LayerSpec,
    hazard: LayerSpec | None,
    role: Role,
    within_m: float,
    risk_within_m: float | None,
    since: str | None = None,
    until: str | None = None,
    area_id: int | None = None,
    area_label: str | None = None,
    status: str = "uncovered",
    unknown_population: int = 500,
) -> Coverage:
    """Check a coverage question's parts against each other; InvalidParameter or Forbidden if wrong.

    `hazard` is the hazard layer. Only the risk condition reads it, and the hazard figures
    (nearest_hazard_m, hazards_within) come with it: a caller who may not read the hazard layer
    can ask only without it (risk_within_m=None), and then no hazard is read at all.
    """
    if target.geometry_type != "Point":
        raise InvalidParameter(
            f"target must be a point layer; '{target.name}' holds {target.geometry_type}s"
        )
    if status not in STATUSES:
        raise InvalidParameter(f"status must be one of {', '.join(STATUSES)}, not '{status[:40]}'")
    if by.temporal_field is None:
        if since or until:
            raise InvalidParameter(
                f"by layer '{by.name}' has no date field, so since/until cannot apply"
            )
        window = None
    else:
        window = Window.of(_date("since", since), _date("until", until))
    if risk_within_m is not None and (hazard is None or not hazard.readable_by(role)):
        raise Forbidden(
            "the risk condition (risk_within_m) reads the hazard areas, which need an API key of a "
            "partner or above; ask with risk_within_m=none to compute coverage without it"
        )
    return Coverage(
        target,
        by,
        area,
        hazard if risk_within_m is not None else None,
        within_m,
        risk_within_m,
        window,
        area_id,
        area_label,
        status,
        role,
        unknown_population,
    )  # type: ignore[arg-type]


def _date(name: str, value: str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidParameter(f"{name} must be a date as YYYY-MM-DD, not '{value[:40]}'") from None


def _planar_m(alias: str, spec: LayerSpec) -> str:
    """Planar distance from target t to a row, in metres of the frame scaled at t's latitude."""
    if spec.geometry_type == "Point":
        return (
            f"sqrt(((ST_X({alias}.geom) - t.x0) * t.kx) ^ 2 "
            f"+ ((ST_Y({alias}.geom) - t.y0) * t.ky) ^ 2)"
        )
    return (
        f"ST_Distance(ST_Affine({alias}.geom, t.kx, 0, 0, t.ky, -t.kx * t.x0, -t.ky * t.y0), "
        "CAST('SRID=4326;POINT(0 0)' AS geometry))"
    )


def _measure(alias: str, spec: LayerSpec) -> str:
    """What a candidate row is measured by, once (a select-list column of the fenced scan).

    A point: its planar distance in scaled metres. A polygon: its distance in plain degrees, a
    tenth of the price of scaling the polygon (bounding boxes were tried: the arithmetic on their
    corners costs PostgreSQL more than it saves).
    """
    if spec.geometry_type == "Point":
        return f"{_planar_m(alias, spec)} AS measure_m"
    return f"ST_Distance({alias}.geom, t.geom) AS measure_m"


def _bounds(alias: str, spec: LayerSpec) -> str:
    """A subquery of (low_m, high_m): bounds of the planar distance from t, in scaled metres.

    For points both are the measured distance itself. For polygons, metres per degree lie between
    the scale factors across and along the meridian, so the distance in degrees times each bounds
    the scaled distance.
    """
    if spec.geometry_type == "Point":
        return f"SELECT {alias}.measure_m AS low_m, {alias}.measure_m AS high_m"
    return (
        f"SELECT {alias}.measure_m * least(t.kx, t.ky) AS low_m, "
        f"{alias}.measure_m * greatest(t.kx, t.ky) AS high_m"
    )


def _within(alias: str, spec: LayerSpec, limit: str) -> str:
    """Whether a row lies within `limit` metres of t, exactly, measuring as little as possible.

    The bounds (b2) decide most rows, the scaled planar distance most of the rest, and geography
    only rows within the slack (s) of the limit.
    """
    planar = f"{alias}.measure_m" if spec.geometry_type == "Point" else _planar_m(alias, spec)
    return f"""CASE WHEN b2.high_m <= {limit} * (1 - s.slack) THEN true
               WHEN b2.low_m > {limit} * (1 + s.slack) THEN false
               WHEN {planar} <= {limit} * (1 - s.slack) THEN true
               WHEN {planar} > {limit} * (1 + s.slack) THEN false
               ELSE ST_DWithin(geography({alias}.geom), geography(t.geom), {limit}) END"""


def _box(distance: str, *, grown: bool = True) -> str:
    """t's search box, in degrees, for candidates within `distance` metres (an SQL expression).

    `grown` widens it by the planar frame's worst error (t.slack_per_m), so that no candidate whose
    exact distance is within reach is left out by the cheap frame.
    """
    reach = f"{distance} * (1 + t.slack_per_m * {distance})" if grown else distance
    return f"ST_Expand(t.geom, {reach} / t.kx + 1e-9, {reach} / t.ky + 1e-9)"


# How far a nearest candidate can lie, given the least upper bound found (c.least_high_m): the
# bound grown by three times the frame's error, plus 5 cm of rounding.
NEAREST_REACH = "c.least_high_m * (1 + 3 * t.slack_per_m * c.least_high_m) + 0.05"


def coverage_sql(q: Coverage) -> tuple[str, dict[str, object]]:
    """The statement and its parameters (also what the EXPLAIN tests and the bench look at)."""
    blocks = sql_blocks()
    window = q.window
    params: dict[str, object] = {
        "within_m": q.within_m,
        "risk": q.risk_within_m is not None,
        "risk_within_m": q.risk_within_m or 0.0,
        "since": window.since if window else None,
        "until": window.until if window else None,
        "window_days": window.days if window else 1,
        "dated": window is not None,
        "area_id": q.area_id,
        "status": q.status,
        "all_targets": q.status == "all",
        "show_uncovered": q.status != "covered",
        "unknown_population": q.unknown_population,
        "notice": NO_DATA_NOTICE,
    }
    names = q.area.name_fields
    parts: dict[str, str] = {
        "target": quote(q.target.table.name),
        "by": quote(q.by.table.name),
        "area": quote(q.area.table.name),
        "population": f"CAST(t.{quote(q.target.population_field)} AS bigint)"
        if q.target.population_field
        else "CAST(NULL AS bigint)",
        "area_filter": "AND EXISTS (SELECT 1 FROM {area} s WHERE s.id = :area_id "
        "AND ST_Intersects(s.geom, t.geom))"
        if q.area_id is not None
        else "",
        "area_name": f"a.{quote(names[0])}" if names else "a.external_id",
        "area_code": f"a.{quote(q.area.code_field)}" if q.area.code_field else "CAST(NULL AS text)",
        "risk_box": _box(":risk_within_m"),
        "within_box": _box(":within_m"),
        "reach_box": _box("r.reach_m", grown=False),
        "nearest_reach": NEAREST_REACH,
        "by_bounds": _bounds("b", q.by),
        "by_measure": _measure("b", q.by),
    }
    if window is not None and q.by.temporal_field:
        date = f"b.{quote(q.by.temporal_field)}"
        parts |= {
            "by_date": date,
            "by_in_window": f"AND {date} BETWEEN CAST(:since AS date) AND CAST(:until AS date)",
            "by_before_window": f"AND {date} < CAST(:since AS date)",
        }
    else:
        parts |= {"by_date": "CAST(NULL AS date)", "by_in_window": "", "by_before_window": ""}
    parts["by_within"] = _within("b", q.by, ":within_m")
    if q.hazard is not None and q.risk_within_m is not None:
        parts |= {
            "hazard": quote(q.hazard.table.name),
            "hazard_active": active_condition("h", q.hazard, params),
            "hazard_within": _within("h", q.hazard, ":risk_within_m"),
            "hazard_bounds": _bounds("h", q.hazard),
            "hazard_measure": _measure("h", q.hazard),
        }
        hazards = blocks["hazards"]
    else:
        hazards = blocks["no_hazards"]
    parts["properties"] = _properties(q)
    # Fragments first, then identifiers into the whole (fragments hold {hazard}, {area} …).
    sql = blocks["coverage"].format_map(_Keep(hazards=hazards, reach=blocks["reach"]))
    sql = sql.format_map(_Keep(parts)).format_map(_Keep(parts))
    params["parameters"] = json.dumps(_echo(q))
    return sql, params


class _Keep(dict):  # type: ignore[type-arg]
    """format_map that leaves unknown {placeholders} for a later pass."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _properties(q: Coverage) -> str:
    figures = [
        ("district", "{area_name}"),
        ("district_code", "{area_code}"),
        ("at_risk", "s.at_risk"),
        ("covered", "s.covered"),
    ]
    if q.hazard is not None:
        figures += [
            ("nearest_hazard_m", "s.nearest_hazard_m"),
            ("hazards_within", "s.hazards_within"),
        ]
    figures += [
        ("nearest_by_m", "s.nearest_by_m"),
        ("last_by_on", "s.last_by_on"),
        ("days_since_last", "s.days_since_last"),
        ("population", "s.population"),
        ("priority", "round(CAST(s.priority AS numeric), 4)"),
    ]
    own = properties_sql(q.target, q.target.visible_fields(q.role), "t")
    return json_object_sql(with_figures(own, figures))


def _echo(q: Coverage) -> dict[str, object]:
    return {
        "target": q.target.name,
        "by": q.by.name,
        "within_m": q.within_m,
        "risk_within_m": q.risk_within_m if q.risk_within_m is not None else "none",
        "since": q.window.since.isoformat() if q.window else None,
        "until": q.window.until.isoformat() if q.window else None,
        "district": q.area_label,
        "status": q.status,
        "hazard_figures": q.hazard is not None,
        "priority": PRIORITY_FORMULA,
    }


def run_coverage(conn: sa.Connection, q: Coverage) -> bytes:
    """The answer as a GeoJSON FeatureCollection (UTF-8), built by PostgreSQL."""
    sql, params = coverage_sql(q)
    custom_plans(conn)
    text = conn.execute(sa.text(sql), params).scalar_one()
    return text.encode("utf-8")
