"""The overview's district choropleth: each district shaded by one figure of the analyses —
active hazard area (km², geodesic), villages at risk, or coverage (%) — with its classes, its
definition and its date window for the legend and the popups.

The hazard area comes from `choropleth.sql` (the one active-hazard condition); villages at risk
and coverage come from the coverage analysis itself (`answers.coverage_answer`), never measured
again here. A district without the figure is hatched "no data — not safe", never shaded as if
safe; the palette is a sequential blue outside the hazard palette (red, orange, greens, greys).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import sqlalchemy as sa

from gis.analysis import answers, sql
from gis.analysis.common import Window, active_sql
from gis.analysis.sql import quote
from gis.errors import Forbidden, InvalidParameter
from gis.roles import LayerRoles
from gis.settings import AnalysisSettings
from gis.spec import Registry, Role

Shade = Literal["hazard_km2", "villages_at_risk", "coverage"]
SHADES: tuple[str, ...] = get_args(Shade)
SQL_FILE = Path(__file__).with_name("choropleth.sql")
# Light to dark; every colour at least ΔE 20 (CIE76) from each hazard colour (tests check it), so
# a lightly shaded district never reads as released land (greens, greys) or as a hazard.
PALETTE = ("#e8f0ff", "#b8d0ff", "#7fa8f5", "#4a78d6", "#1b3f94")
FILL_OPACITY = 0.65
NO_DATA = "No data — NOT safe"
# Coverage classes are fixed (percent); darker is less covered, the gap a planner looks for.
COVERAGE_EDGES = (20.0, 40.0, 60.0, 80.0)


@dataclass(frozen=True)
class ShadeClass:
    label: str
    colour: str


@dataclass(frozen=True)
class Choropleth:
    """One figure per district (by id): its text, its class (None: no data), and the legend."""

    shade: str
    title: str
    definition: str
    window: str
    classes: tuple[ShadeClass, ...]
    values: dict[int, tuple[str, int | None]]
    no_data: str
    figures: dict[int, float] | None = None  # the raw figure of each district that has one

    def config(self) -> dict[str, object]:
        """What map.js needs to shade the district layer and fill its popups."""
        return {
            "title": self.title,
            "definition": self.definition,
            "window": self.window,
            "colours": [c.colour for c in self.classes],
            "fillOpacity": FILL_OPACITY,
            "values": {
                str(k): [text, index, (self.figures or {}).get(k)]
                for k, (text, index) in self.values.items()
            },
            "noData": self.no_data,
        }


def district_shade(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    shade: str,
    *,
    analysis: AnalysisSettings | None = None,
    since: dt.date | None = None,
    roles: LayerRoles | None = None,
) -> Choropleth:
    """The figure `shade` for every live district; InvalidParameter naming an unknown shade,
    Forbidden when the figure needs the hazard areas and the role may not read them."""
    if shade not in SHADES:
        raise InvalidParameter(f"shade must be one of {', '.join(SHADES)}, not '{str(shade)[:40]}'")
    analysis = analysis or AnalysisSettings.model_construct()
    roles = roles or LayerRoles.of(registry, analysis)
    if not roles.hazards.readable_by(role):
        raise Forbidden(
            f"shade={shade} reads the {roles.hazards.title.lower()}, which need an API key of a "
            "partner or above"
        )
    if shade == "hazard_km2":
        return _hazard_km2(conn, roles)
    return _from_coverage(conn, registry, role, shade, analysis, since, roles)


def _hazard_km2(conn: sa.Connection, roles: LayerRoles) -> Choropleth:
    today = dt.date.today()
    params: dict[str, object] = {}
    statement = sql.fill(
        sql.blocks(SQL_FILE)["hazard_km2"],
        {
            "area": quote(roles.areas.table.name),
            "hazard": quote(roles.hazards.table.name),
            "active": active_sql("h", roles.hazards, params),
        },
    )
    ids: list[int] = [int(i) for i in conn.scalars(_live_ids(roles))]
    params["ids"] = ids
    figures = {
        int(r.id): (float(r.km2), int(r.hazards)) for r in conn.execute(sa.text(statement), params)
    }
    # no active hazard area on record is no data, not a safe district
    known = {i: km2 for i, (km2, n) in figures.items() if n > 0}
    edges = _edges(list(known.values()))
    values: dict[int, tuple[str, int | None]] = {
        i: (
            f"{_km2(known[i])} km² ({figures[i][1]:,} active hazard area(s))",
            _index(known[i], edges),
        )
        if i in known
        else ("no active hazard area on record — NOT safe", None)
        for i in ids
    }
    active = _active_words(roles)
    return Choropleth(
        shade="hazard_km2",
        title="Active hazard area (km²)",
        definition=f"The area of the {active} hazard areas inside the district, geodesic on the "
        "WGS 84 ellipsoid; land that overlapping records share counts once.",
        window=f"Hazard areas {active} on {_day(today)}, whatever the date they were recorded",
        classes=_classes(edges, _km2, " km²"),
        values=values,
        figures=known,
        no_data=f"{NO_DATA}: no {active} hazard area on record",
    )


def _from_coverage(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    shade: str,
    analysis: AnalysisSettings,
    since: dt.date | None,
    roles: LayerRoles,
) -> Choropleth:
    ask = answers.CoverageAsk(since=since, status="uncovered")
    answer = answers.coverage_answer(conn, registry, analysis, role, ask)
    q = answer.question
    window = q.window or Window.of(since, None)
    by_code = {d["district_code"]: d for d in answer.summary["districts"]}
    t = roles.areas.table
    code = t.c[roles.areas.code_field or "external_id"]
    rows = conn.execute(sa.select(t.c.id, code).where(t.c.deleted_at.is_(None))).all()
    risk = _metres(q.risk_within_m or 0.0)
    places = q.target.title.lower()
    at_risk = f"{places} within {risk} of an active hazard area on {_day(window.until)}"
    values: dict[int, tuple[str, int | None]] = {}
    if shade == "villages_at_risk":
        counts = {int(r[0]): int((by_code.get(r[1]) or {}).get("at_risk") or 0) for r in rows}
        edges = _edges([float(n) for n in counts.values() if n > 0])
        for i, n in counts.items():
            values[i] = (
                (f"{n:,} {places} at risk", _index(float(n), edges))
                if n > 0
                else (
                    f"no {places[:-1] if places.endswith('s') else places} at risk on record — NOT safe",
                    None,
                )
            )
        return Choropleth(
            shade=shade,
            title=f"{q.target.title} at risk",
            definition=f"The number of {at_risk} (geodesic distance; the coverage analysis).",
            window=f"Hazard status on {_day(window.until)}",
            classes=_classes(edges, lambda v: f"{v:,.0f}", ""),
            values=values,
            figures={i: float(n) for i, n in counts.items() if n > 0},
            no_data=f"{NO_DATA}: none at risk on record",
        )
    shares: dict[int, float] = {}
    for i, district_code in rows:
        figures = by_code.get(district_code) or {}
        pct = figures.get("coverage_pct")
        if pct is None:
            values[int(i)] = (f"no {places} at risk on record — NOT safe", None)
            continue
        # darker is less covered: the class of the lowest percentages is the darkest
        index = len(PALETTE) - 1 - bisect.bisect_right(COVERAGE_EDGES, float(pct))
        shares[int(i)] = float(pct)
        values[int(i)] = (
            f"{float(pct):g} % ({figures['covered']:,} of {figures['at_risk']:,} {places} at "
            "risk covered)",
            max(0, index),
        )
    bounds = (0.0, *COVERAGE_EDGES, 100.0)
    classes = tuple(
        ShadeClass(f"{bounds[k]:g} – {bounds[k + 1]:g} %", PALETTE[len(PALETTE) - 1 - k])
        for k in range(len(PALETTE))
    )
    return Choropleth(
        shade=shade,
        title=f"Coverage of {places} at risk (%)",
        definition=f"Of the {at_risk}, the share with {q.by.title.lower()} within "
        f"{_metres(q.within_m)} in the window (the coverage analysis).",
        window=f"{q.by.title} from {_day(window.since)} to {_day(window.until)}",
        classes=classes,
        values=values,
        no_data=f"{NO_DATA}: no {places} at risk on record",
        figures=shares,
    )


def _live_ids(roles: LayerRoles) -> sa.Select[Any]:
    t = roles.areas.table
    return sa.select(t.c.id).where(t.c.deleted_at.is_(None)).order_by(t.c.id)


def _edges(values: list[float]) -> tuple[float, ...]:
    """Up to four class edges at the quintiles of the positive figures, rounded to two
    significant digits, strictly inside their range (so no class is empty by construction)."""
    if not values:
        return ()
    ordered = sorted(values)
    edges: list[float] = []
    for q in (0.2, 0.4, 0.6, 0.8):
        edge = _round2(ordered[min(len(ordered) - 1, int(q * len(ordered)))])
        if edge < ordered[-1] and (not edges or edge > edges[-1]) and edge >= ordered[0]:
            edges.append(edge)
    return tuple(edges)


def _index(value: float, edges: tuple[float, ...]) -> int:
    """The class of a positive figure: classes are (0, e1], (e1, e2], …, (ek, max]."""
    return bisect.bisect_left(edges, value)


def _classes(
    edges: tuple[float, ...], show: Callable[[float], str], unit: str
) -> tuple[ShadeClass, ...]:
    if not edges:
        return (ShadeClass(f"more than 0{unit}", PALETTE[0]),)
    labels = [f"up to {show(edges[0])}{unit}"]
    labels += [f"{show(a)} – {show(b)}{unit}" for a, b in itertools.pairwise(edges)]
    labels.append(f"over {show(edges[-1])}{unit}")
    return tuple(ShadeClass(label, PALETTE[k]) for k, label in enumerate(labels))


def _round2(value: float) -> float:
    return float(f"{value:.2g}")


def _km2(value: float) -> str:
    return f"{value:,.2f}" if value >= 0.01 else f"{value:.4f}"


def _metres(value: float) -> str:
    return f"{value:,.0f} m" if value < 1000 else f"{value / 1000:,.1f} km"


def _day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def _active_words(roles: LayerRoles) -> str:
    words = [v for values in roles.hazards.active_filter.values() for v in values]
    return " or ".join(words) or "active"
