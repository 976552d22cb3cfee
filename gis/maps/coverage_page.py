"""The coverage map: the coverage analysis (`answers.coverage_answer`, its checks and access rules)
drawn — uncovered targets prominent, covered ones muted, over the hazards and the `by` features of
the window, with the answer's summary figures and parameters in the panel."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from gis.analysis import answers
from gis.analysis.coverage import Coverage, TargetFigures
from gis.errors import InvalidParameter
from gis.maps import data, folium_map, names
from gis.maps.answer_layers import answered
from gis.maps.builders import BuiltMap, day, metres
from gis.maps.data import DISTRICT, NATIONAL, Extra, LayerData
from gis.maps.elements import frame_for
from gis.roles import LayerRoles
from gis.settings import AnalysisSettings
from gis.spec import LayerSpec, Registry, Role

SIZE_BY = ("population", "priority")
# The answer's statuses, as the map reads them: which at-risk targets are drawn.
DRAWN = {"uncovered": (False,), "covered": (True,), "all": (False, True)}


def coverage(
    conn: sa.Connection,
    registry: Registry,
    analysis: AnalysisSettings,
    role: Role,
    ask: answers.CoverageAsk,
    *,
    rings: bool = False,
    size_by: str = "population",
    download_href: str | None = None,
    lang: str = names.DEFAULT_LANG,
) -> BuiltMap:
    """The coverage answer on a map. Targets not at risk are not drawn; `ask.status` chooses
    among the at-risk ones (uncovered above covered)."""
    roles = LayerRoles.of(registry, analysis)
    names.checked(lang)
    if size_by not in SIZE_BY:
        raise InvalidParameter(f"size_by must be one of {', '.join(SIZE_BY)}, not '{size_by[:40]}'")
    answer = answers.coverage_answer(conn, registry, analysis, role, ask)
    q, summary, status = answer.question, answer.summary, ask.status
    target_spec, by_spec, risk = q.target, q.by, q.risk_within_m
    at_risk = [t for t in answer.targets() if t.at_risk]
    by_covered = {
        flag: {t.id: _figures(t) for t in at_risk if t.covered is flag}
        for flag in DRAWN.get(status, (False, True))
    }
    area = None
    if q.area_id is not None:  # the district the analysis found: its outline
        table = q.area.table
        area = sa.select(table.c.geom).where(table.c.id == q.area_id).scalar_subquery()
    scale = DISTRICT if area is not None else NATIONAL
    reach = max(q.within_m, risk or 0.0)
    targets = [
        _targets(conn, target_spec, by_spec, role, scale, by_covered.get(flag, {}), flag, lang)
        for flag in (False, True)
    ]
    context, hidden = _context(conn, registry, role, scale, area, reach, by_spec, q, roles, lang)
    where = f": {q.area_label}" if q.area_label else ""
    frame = frame_for(
        [*context, *targets],
        f"Coverage of {target_spec.title.lower()} by {by_spec.title.lower()}{where}",
        lines=_parameter_lines(q, status, rings),
        facts=summary_facts(summary, target_spec.title.lower()),
        hidden=hidden,
        hazards_title=roles.hazards.title,
        download_href=download_href,
    )
    ring_m = [q.within_m] + ([risk] if risk is not None else []) if rings else []
    size_max = max((t.priority for t in at_risk if not t.covered), default=0.0)
    # the target's own population when the caller may see it, else the answer's figure
    size_key = size_by if size_by == "priority" or size_by in targets[0].popup_fields else "people"
    m = folium_map.coverage_map(
        targets[0],
        targets[1],
        context,
        frame,
        rings_m=ring_m,
        size_by=size_key,
        size_max=size_max if size_by == "priority" else None,
        base=roles.areas.name,
    )
    counts = {layer.key: layer.count for layer in context}
    counts |= {
        f"{target_spec.name}_uncovered": targets[0].count,
        f"{target_spec.name}_covered": targets[1].count,
    }
    return BuiltMap(m, counts)


def _figures(t: TargetFigures) -> dict[str, object]:
    """The answer's figures for one target, as the text a person reads."""
    return {
        "priority": f"{t.priority:.2f}",
        "nearest_hazard": None if t.nearest_hazard_m is None else metres(t.nearest_hazard_m),
        "last_by": None if t.last_by_on is None else day(t.last_by_on),
        "days_since_last": None if t.days_since_last is None else f"{t.days_since_last:,}",
        "people": None if t.population is None else f"{t.population:,}",
    }


def _targets(
    conn: sa.Connection,
    spec: LayerSpec,
    by: LayerSpec,
    role: Role,
    scale: data.Detail,
    figures: dict[int, dict[str, object]],
    covered: bool,
    lang: str = names.DEFAULT_LANG,
) -> LayerData:
    labels = [
        ("priority", "Priority"),
        ("nearest_hazard", "Nearest active hazard"),
        ("last_by", f"Last of {by.title.lower()} within reach"),
        ("days_since_last", "Days since"),
    ]
    if "population" not in data.popup_fields(spec, role):
        labels.append(("people", "Population"))
    return answered(
        conn,
        spec,
        role,
        scale,
        figures,
        labels,
        extra=[Extra("covered", "Covered", sa.literal(covered))],
        order=(spec.table.c.id, False),
        title=f"{spec.title}: {'covered' if covered else 'NOT covered'}",
        lang=lang,
    )


def _context(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    scale: data.Detail,
    area: sa.ScalarSelect[Any] | None,
    reach_m: float,
    by: LayerSpec,
    q: Coverage,
    roles: LayerRoles,
    lang: str = names.DEFAULT_LANG,
) -> tuple[list[LayerData], list[str]]:
    """The boundaries, the hazard areas (if the caller may read them) and the `by` features of the
    window; with a district, those within reach of it (a box grown by `reach_m`: a superset)."""
    layers, hidden = [], []
    for spec in (roles.areas, roles.hazards):
        if not spec.readable_by(role):
            hidden.append(spec.title)
            continue
        grown = 0.0 if spec is roles.areas else reach_m  # the district and its neighbours
        where: list[sa.ColumnElement[Any]] = (
            [] if area is None else [sa.func.ST_Intersects(spec.table.c.geom, _grown(area, grown))]
        )
        layers.append(data.collect(conn, spec, role, scale, where=where, lang=lang))
    t = by.table
    where = [] if area is None else [sa.func.ST_Intersects(t.c.geom, _grown(area, reach_m))]
    if by.temporal_field and q.window is not None:
        where.append(t.c[by.temporal_field].between(q.window.since, q.window.until))
    layers.append(data.capped(conn, by, role, scale, where, roles, lang))
    return layers, hidden


def _grown(area: sa.ScalarSelect[Any], reach_m: float) -> sa.ColumnElement:
    """The area's box grown by `reach_m` in degrees (at its poleward edge): only selects what to
    draw, never measures."""
    if reach_m <= 0:
        return area
    lat = sa.func.least(
        89.0,
        sa.func.greatest(sa.func.abs(sa.func.ST_YMin(area)), sa.func.abs(sa.func.ST_YMax(area))),
    )
    return sa.func.ST_Expand(
        area,
        reach_m * 1.01 / (111319.49 * sa.func.cos(sa.func.radians(lat))),
        reach_m * 1.01 / 110574.0,
    )


def summary_facts(summary: dict[str, Any], targets: str) -> list[str]:
    """The answer's summary figures, as the panel shows them."""
    pct = summary.get("coverage_pct")
    facts = [
        f"At risk: {summary['at_risk']:,} {targets} · Covered: {summary['covered']:,} · "
        f"Uncovered: {summary['uncovered']:,} · Coverage: {'n/a' if pct is None else f'{pct} %'}",
        f"People at risk: {summary['people_at_risk']:,} · People covered: "
        f"{summary['people_covered']:,} (known populations only)",
    ]
    unknown = summary.get("at_risk_population_unknown") or 0
    if unknown:
        facts.append(f"{unknown:,} of the {targets} at risk have no known population.")
    return facts


def _parameter_lines(q: Coverage, status: str, rings: bool) -> list[str]:
    window = f", {q.window.since.isoformat()} to {q.window.until.isoformat()}" if q.window else ""
    lines = [f"Covered: {q.by.title.lower()} within {metres(q.within_m)}{window}"]
    if q.risk_within_m is None:
        lines.append(
            "At risk: every target (risk_within_m=none: no hazard read, no hazard figures)"
        )
    else:
        lines.append(f"At risk: within {metres(q.risk_within_m)} of an active hazard area")
    if q.area_label:
        lines.append(f"District: {q.area_label}")
    lines.append(
        f"Drawn: {status} {q.target.title.lower()} at risk"
        + ("; rings at the coverage and risk distances" if rings else "")
    )
    return lines
