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
from typing import Any, Literal

import orjson
import sqlalchemy as sa

from gis.analysis import pairs, sql
from gis.analysis.common import (
    NO_DATA_NOTICE,
    Window,
    active_sql,
    custom_plans,
    json_object_sql,
    properties_sql,
    with_figures,
)
from gis.analysis.geodesic import A_M, E2, M_MIN
from gis.analysis.pairs_now import PAIRS_NOW_SQL, PairsNow, pairs_now
from gis.analysis.sql import quote
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

    @property
    def as_of(self) -> dt.date:
        """The day whose hazard status counts: `until` (today without a window)."""
        return self.window.until if self.window else dt.date.today()


def coverage_question(
    *,
    target: LayerSpec,
    by: LayerSpec,
    area: LayerSpec,
    hazard: LayerSpec | None,
    role: Role,
    within_m: float,
    risk_within_m: float | None,
    since: dt.date | None = None,
    until: dt.date | None = None,
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
        window = Window.of(since, until)
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


# Per target t, four scale factors (metres per degree) for the `by` candidates within :within_m
# (proof): a geodesic of length <= W from t stays within W / M_MIN radians of t's latitude
# (dphi/ds <= 1/M), where every meridional radius M lies between M(lat_lo) and M(lat_hi) (M grows
# with |latitude|) and every parallel radius C = N cos(phi) between C(lat_hi) and C(lat_lo) (C
# shrinks with it). The geodesic's length is the integral of sqrt(M^2 phi'^2 + C^2 lam'^2), at
# least sqrt((M_lo dphi)^2 + (C_lo dlam)^2) (Minkowski): the `lo` frame never overstates a
# distance. The lon/lat-straight path to a point of the band is no shorter than the geodesic and
# at most sqrt((M_hi dphi)^2 + (C_hi dlam)^2): the `hi` frame never understates it.
FRAME = f"""
SELECT pi() / 180 * {A_M} * cos(l.hi) / sqrt(1 - {E2} * sin(l.hi) ^ 2) AS kx_lo,
       pi() / 180 * {A_M} * (1 - {E2}) / (1 - {E2} * sin(l.lo) ^ 2) ^ 1.5 AS ky_lo,
       pi() / 180 * {A_M} * cos(l.lo) / sqrt(1 - {E2} * sin(l.lo) ^ 2) AS kx_hi,
       pi() / 180 * {A_M} * (1 - {E2}) / (1 - {E2} * sin(l.hi) ^ 2) ^ 1.5 AS ky_hi
FROM (SELECT greatest(0.0, radians(abs(ST_Y(t.geom))) - :within_m / {M_MIN}) AS lo,
             least(radians(89.9), radians(abs(ST_Y(t.geom))) + :within_m / {M_MIN}) AS hi) l
"""


# The window's `by` features drive their search when there are fewer than this many per target
# read (coverage.sql, `drive`): one probe of the targets' index and its few pairs per feature cost
# about a quarter of one probe of the features' index with its many candidates per target
# (measured on the large demo: ~9 µs against ~40 µs). Either way the answer is the same.
DRIVE_RATIO = 4


def _measure(alias: str, spec: LayerSpec) -> str:
    """What a candidate row is measured by, once (select-list columns of the fenced scan): for a
    point its offsets in degrees, for a polygon its distance in degrees."""
    if spec.geometry_type == "Point":
        return f"ST_X({alias}.geom) - t.x0 AS dx, ST_Y({alias}.geom) - t.y0 AS dy"
    return f"ST_Distance({alias}.geom, t.geom) AS measure_deg"


def _bounds(alias: str, spec: LayerSpec) -> str:
    """A subquery of (low_m, high_m): a lower and an upper bound of the geodesic distance (FRAME).

    For a polygon, `low_m` is its distance in degrees times the smaller `lo` factor and `high_m`
    its distance in the `hi` frame (to a true point of it, along lon/lat-straight lines).
    """
    if spec.geometry_type == "Point":
        return (
            f"SELECT sqrt(({alias}.dx * t.kx_lo) ^ 2 + ({alias}.dy * t.ky_lo) ^ 2) AS low_m, "
            f"sqrt(({alias}.dx * t.kx_hi) ^ 2 + ({alias}.dy * t.ky_hi) ^ 2) AS high_m"
        )
    return (
        f"SELECT {alias}.measure_deg * least(t.kx_lo, t.ky_lo) AS low_m, "
        f"ST_Distance(ST_Affine({alias}.geom, t.kx_hi, 0, 0, t.ky_hi, -t.kx_hi * t.x0, "
        "-t.ky_hi * t.y0), CAST('SRID=4326;POINT(0 0)' AS geometry)) AS high_m"
    )


def _within(alias: str, limit: str) -> str:
    """Whether a row lies within `limit` metres of t: by the bounds when they agree, else on
    geography — GeographicLib's distance for points. (A polygon `by` layer between the bounds is
    decided by geography's sphere-then-ellipsoid distance, which is not held to the engine's
    bound; the `by` layers SafeGround ships are points.)"""
    return f"""CASE WHEN b2.high_m <= {limit} THEN true
               WHEN b2.low_m > {limit} THEN false
               ELSE ST_DWithin(geography({alias}.geom), geography(t.geom), {limit}) END"""


def _box(distance: str) -> str:
    """t's search box, in degrees, holding every point within `distance` metres (FRAME's `lo`)."""
    return f"ST_Expand(t.geom, {distance} / t.kx_lo + 1e-9, {distance} / t.ky_lo + 1e-9)"


def coverage_sql(q: Coverage, now: PairsNow | None = None) -> tuple[str, dict[str, object]]:
    """The statement and its parameters (also what the EXPLAIN tests and the bench look at).

    `now` says which measured target × hazard pairs to count (gis/analysis/pairs_now.py); without
    it, the stored ones as they are.
    """
    blocks = sql.blocks(SQL_FILE)
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
        "unknown_population": q.unknown_population,
        "notice": NO_DATA_NOTICE,
        "drive_ratio": DRIVE_RATIO,
    }
    names = q.area.name_fields
    area = quote(q.area.table.name)
    area_name = f"a.{quote(names[0])}" if names else "a.external_id"
    area_code = f"a.{quote(q.area.code_field)}" if q.area.code_field else "CAST(NULL AS text)"
    parts: dict[str, str] = {
        "target": quote(q.target.table.name),
        "by": quote(q.by.table.name),
        "area": area,
        "population": f"CAST(t.{quote(q.target.population_field)} AS bigint)"
        if q.target.population_field
        else "CAST(NULL AS bigint)",
        "area_filter": f"AND EXISTS (SELECT 1 FROM {area} s WHERE s.id = :area_id "
        "AND ST_Intersects(s.geom, t.geom))"
        if q.area_id is not None
        else "",
        "area_name": area_name,
        "area_code": area_code,
        "frame": FRAME,
        "within_box": _box(":within_m"),
        "reach_box": _box("c.least_high_m"),
        "by_bounds": _bounds("b", q.by),
        "bm_bounds": _bounds("bm", q.by),
        "by_measure": _measure("b", q.by),
        "by_within": _within("b", ":within_m"),
        "properties": _properties(q, area_name, area_code),
    }
    if window is not None and q.by.temporal_field:
        date = f"b.{quote(q.by.temporal_field)}"
        parts |= {
            "by_date": date,
            "by_in_window": f"{date} >= CAST(:since AS date)",
            "by_until": f"AND {date} <= CAST(:until AS date)",
            "by_before": f"{date} < CAST(:since AS date)",
        }
    else:
        parts |= {
            "by_date": "CAST(NULL AS date)",
            "by_in_window": "true",
            "by_until": "",
            "by_before": "false",
        }
    if q.hazard is not None and q.risk_within_m is not None:
        now = now or PairsNow(True)
        params |= now.params() | {"pairing": pairs.pairing(q.hazard, q.target), "as_of": q.as_of}
        # The stored figures answer for the whole stored reach (the default question).
        stored_figures = now.stored and q.risk_within_m == pairs.REACH_M
        parts |= {
            "pairs": quote(pairs.pairs_table.name),
            "hazard": quote(q.hazard.table.name),
            "hazard_active": active_sql("h", q.hazard, params, q.as_of),
            "pairs_needed": blocks["pairs_needed"] if stored_figures else "",
        }
        parts["pairs_now"] = sql.fill(PAIRS_NOW_SQL, parts)
        parts["from_pairs"] = sql.fill(blocks["hazard_figures_from_pairs"], parts)
        figures = "hazard_figures_stored" if stored_figures else "hazard_figures_from_pairs"
        parts["hazard_figures"] = sql.fill(blocks[figures], parts)
        parts["hazards"] = blocks["hazards"]
    else:
        parts["hazard_figures"] = blocks["no_hazard_figures"]
        parts["hazards"] = blocks["no_hazards"]
    parts["by_target"] = sql.fill(blocks["by_target"], parts)
    parts["older"] = sql.fill(blocks["older"], parts)
    params["parameters"] = json.dumps(_echo(q))
    return sql.fill(blocks["coverage"], parts), params


def _properties(q: Coverage, area_name: str, area_code: str) -> str:
    figures = [
        ("district", area_name),
        ("district_code", area_code),
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


@dataclass(frozen=True)
class TargetFigures:
    """One target's figures in a coverage answer."""

    id: int
    at_risk: bool
    covered: bool
    nearest_hazard_m: float | None
    hazards_within: int | None
    nearest_by_m: float | None
    last_by_on: dt.date | None
    days_since_last: int | None
    population: int | None
    priority: float


@dataclass(frozen=True)
class CoverageAnswer:
    """The checked question and the answer PostgreSQL built (a GeoJSON FeatureCollection, UTF-8):
    the API passes `body` on as it is; the CLI and the maps read the figures, typed."""

    question: Coverage
    body: bytes

    @functools.cached_property
    def collection(self) -> dict[str, Any]:
        return dict(orjson.loads(self.body))

    @property
    def summary(self) -> dict[str, Any]:
        return dict(self.collection["summary"])

    def targets(self) -> list[TargetFigures]:
        def number(v: Any) -> float | None:
            return None if v is None else float(v)

        out = []
        for f in self.collection["features"]:
            p = f["properties"]
            out.append(
                TargetFigures(
                    id=int(f["id"]),
                    at_risk=bool(p["at_risk"]),
                    covered=bool(p["covered"]),
                    nearest_hazard_m=number(p.get("nearest_hazard_m")),
                    hazards_within=p.get("hazards_within"),
                    nearest_by_m=number(p.get("nearest_by_m")),
                    last_by_on=dt.date.fromisoformat(p["last_by_on"])
                    if p.get("last_by_on")
                    else None,
                    days_since_last=p.get("days_since_last"),
                    population=p.get("population"),
                    priority=float(p["priority"]),
                )
            )
        return out


def run_coverage(conn: sa.Connection, q: Coverage) -> CoverageAnswer:
    """The answer, built by PostgreSQL.

    Nothing is written: the pairs of rows written behind the app's back, and of a risk distance
    beyond what is stored, are measured for this question alone (gis/analysis/pairs_now.py).
    """
    now = None
    if q.hazard is not None and q.risk_within_m is not None:
        now = pairs_now(conn, q.hazard, q.target, q.risk_within_m)
    statement, params = coverage_sql(q, now)
    custom_plans(conn)
    text = conn.execute(sa.text(statement), params).scalar_one()
    return CoverageAnswer(q, text.encode("utf-8"))
