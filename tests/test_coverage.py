"""Coverage on small fixtures whose answers can be worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import shapely
import sqlalchemy as sa

from gis.analysis import coverage
from gis.analysis.answers import CoverageAsk, coverage_answer
from gis.errors import Forbidden, InvalidParameter, NotFound
from gis.settings import AnalysisSettings
from gis.spec import Role
from layers import REGISTRY

from .test_analysis_geo import add, blob, box_north_of, moved

V = (47.00, 40.00)  # a village in Tartar's latitudes


@pytest.fixture(autouse=True, params=["targets drive", "sessions drive"])
def drive(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer here is checked both ways the sessions of the window can be searched."""
    monkeypatch.setattr(coverage, "DRIVE_RATIO", 0 if request.param == "targets drive" else 10**6)


WINDOW = {"since": "2025-01-01", "until": "2025-12-31"}


def run(conn: sa.Connection, role: Role = Role.admin, **params: Any) -> dict[str, Any]:
    params = {**WINDOW, "status": "all", **params}
    ask = CoverageAsk.from_text(**params)
    return json.loads(coverage_answer(conn, REGISTRY, AnalysisSettings(rasters={}), role, ask).body)


def props(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["name"]: f["properties"] for f in answer["features"]}


def village(conn: sa.Connection, name: str, at: tuple[float, float] = V, **extra: Any) -> int:
    return add(conn, "villages", shapely.Point(at), name=name, **extra)


@pytest.mark.parametrize(
    ("risk_within_m", "at_risk"), [(2000, True), (1990.4, True), (1989.6, False), (1980, False)]
)
def test_village_1990_m_from_a_hazard_edge_is_at_risk_only_within_that_distance(
    conn, risk_within_m, at_risk
) -> None:
    village(conn, "near")
    add(conn, "hazard_areas", box_north_of(*V, 1990.0))
    p = props(run(conn, risk_within_m=risk_within_m))["near"]
    assert p["at_risk"] is at_risk
    assert p["hazards_within"] == (1 if at_risk else 0)
    if at_risk:
        assert p["nearest_hazard_m"] == pytest.approx(1990.0, abs=0.5)


def test_village_inside_a_hazard_is_at_distance_zero(conn) -> None:
    village(conn, "inside")
    add(conn, "hazard_areas", blob(*V, 300.0))
    add(conn, "hazard_areas", blob(*moved(*V, 90.0, 3000.0), 300.0))
    p = props(run(conn))["inside"]
    assert (p["at_risk"], p["nearest_hazard_m"], p["hazards_within"]) == (True, 0.0, 2)


@pytest.mark.parametrize("status", ["cleared", "reduced", "cancelled"])
def test_hazard_no_longer_active_puts_nobody_at_risk(conn, status) -> None:
    village(conn, "v")
    hazard = add(conn, "hazard_areas", box_north_of(*V, 500.0))
    assert props(run(conn))["v"]["at_risk"] is True
    conn.execute(
        sa.text(
            "UPDATE hazard_areas SET status = :s, status_changed_on = '2024-01-01' WHERE id = :id"
        ),
        {"s": status, "id": hazard},
    )
    p = props(run(conn))["v"]
    assert (p["at_risk"], p["hazards_within"], p["priority"]) == (False, 0, 0)


@pytest.mark.parametrize(
    ("held_on", "covered"),
    [("2024-12-31", False), ("2025-01-01", True), ("2025-12-31", True), ("2026-01-01", False)],
)
def test_session_covers_only_inside_the_window_both_ends_included(conn, held_on, covered) -> None:
    village(conn, "v")
    add(conn, "hazard_areas", box_north_of(*V, 1000.0))
    add(conn, "outreach_sessions", shapely.Point(moved(*V, 200.0, 150.0)), held_on=held_on)
    p = props(run(conn))["v"]
    assert p["covered"] is covered
    assert p["last_by_on"] == (None if held_on == "2026-01-01" else held_on)


@pytest.mark.parametrize(("within_m", "covered"), [(2000, True), (1999.3, True), (1998.7, False)])
def test_session_covers_within_the_reach_distance_exactly(conn, within_m, covered) -> None:
    village(conn, "v")
    add(conn, "hazard_areas", box_north_of(*V, 1000.0))
    add(conn, "outreach_sessions", shapely.Point(moved(*V, 123.0, 1999.0)), held_on="2025-06-01")
    p = props(run(conn, within_m=within_m))["v"]
    assert p["covered"] is covered
    assert p["nearest_by_m"] == (pytest.approx(1999.0, abs=0.01) if covered else None)


def test_last_session_and_days_since_are_counted_to_until(conn) -> None:
    village(conn, "v")
    add(conn, "hazard_areas", box_north_of(*V, 1000.0))
    for held_on in ("2023-03-01", "2024-06-30"):
        add(conn, "outreach_sessions", shapely.Point(moved(*V, 10.0, 300.0)), held_on=held_on)
    add(
        conn, "outreach_sessions", shapely.Point(moved(*V, 10.0, 2500.0)), held_on="2024-12-01"
    )  # beyond reach
    p = props(run(conn))["v"]
    assert (p["covered"], p["last_by_on"]) == (False, "2024-06-30")
    assert p["days_since_last"] == (dt.date(2025, 12, 31) - dt.date(2024, 6, 30)).days


def test_deleted_features_are_ignored_everywhere(conn) -> None:
    village(conn, "kept")
    gone = village(conn, "gone", at=moved(*V, 0.0, 10_000.0))
    hazard = add(conn, "hazard_areas", box_north_of(*V, 800.0))
    add(conn, "hazard_areas", box_north_of(*V, 300.0), status="suspected")
    session = add(
        conn, "outreach_sessions", shapely.Point(moved(*V, 90.0, 100.0)), held_on="2025-03-01"
    )
    for layer, row in (
        ("villages", gone),
        ("hazard_areas", hazard),
        ("outreach_sessions", session),
    ):
        conn.execute(sa.text(f"UPDATE {layer} SET deleted_at = now() WHERE id = :id"), {"id": row})
    answer = run(conn)
    p = props(answer)
    assert set(p) == {"kept"}
    assert (p["kept"]["hazards_within"], p["kept"]["covered"], p["kept"]["last_by_on"]) == (
        1,
        False,
        None,
    )
    assert p["kept"]["nearest_hazard_m"] == pytest.approx(300.0, abs=0.5)
    assert answer["summary"]["targets"] == 1


def test_empty_layers_give_an_empty_answer_with_a_summary(conn) -> None:
    answer = run(conn, status="uncovered")
    assert answer["features"] == []
    s = answer["summary"]
    assert (s["targets"], s["at_risk"], s["covered"], s["coverage_pct"]) == (0, 0, 0, None)
    assert "does NOT mean" in answer["notice"]


def test_summary_per_district_counts_people_and_lists_a_district_without_villages(conn) -> None:
    add(
        conn,
        "districts",
        blob(*V, 8000.0, vertices=16),
        name="Aghdam",
        code="AZ.AM",
        name_az="Ağdam",
    )
    add(conn, "districts", blob(*moved(*V, 90.0, 40_000.0), 5000.0), name="Empty", code="AZ.EM")
    village(conn, "a", population=1000)
    village(conn, "b", at=moved(*V, 180.0, 1000.0), population=500)
    village(conn, "c", at=moved(*V, 180.0, 2000.0))  # population unknown
    add(conn, "hazard_areas", box_north_of(*V, 500.0))
    add(conn, "outreach_sessions", shapely.Point(V), held_on="2025-05-05")
    summary = run(conn, status="uncovered")["summary"]
    assert (summary["at_risk"], summary["covered"], summary["uncovered"]) == (3, 2, 1)
    assert (summary["people_at_risk"], summary["people_covered"]) == (1500, 1500)
    assert summary["at_risk_population_unknown"] == 1
    assert summary["coverage_pct"] == pytest.approx(66.7)
    by_name = {d["district"]: d for d in summary["districts"]}
    assert by_name["Aghdam"]["at_risk"] == 3 and by_name["Aghdam"]["district_code"] == "AZ.AM"
    assert (
        by_name["Empty"]["targets"],
        by_name["Empty"]["at_risk"],
        by_name["Empty"]["coverage_pct"],
    ) == (0, 0, None)


@pytest.mark.parametrize("name", ["Aghdam", "aghdam", "AZ.AM", "az.am", "Ağdam", "AGDAM"])
def test_district_is_found_by_any_of_its_names_case_insensitively(conn, name) -> None:
    add(
        conn,
        "districts",
        blob(*V, 8000.0, vertices=16),
        name="Aghdam",
        code="AZ.AM",
        name_az="Ağdam",
        name_az_ascii="Agdam",
    )
    add(conn, "districts", blob(*moved(*V, 90.0, 40_000.0), 5000.0), name="Other", code="AZ.OT")
    village(conn, "in")
    village(conn, "out", at=moved(*V, 90.0, 40_000.0))
    answer = run(conn, district=name, risk_within_m="none")
    assert set(props(answer)) == {"in"}
    assert [d["district"] for d in answer["summary"]["districts"]] == ["Aghdam"]
    assert answer["parameters"]["district"] == "Aghdam (AZ.AM)"


def test_unknown_and_ambiguous_districts_are_refused_by_name(conn) -> None:
    add(conn, "districts", blob(*V, 8000.0), name="Sheki", code="AZ.SK")
    add(conn, "districts", blob(*moved(*V, 90.0, 40_000.0), 3000.0), name="Sheki", code="AZ.SA")
    with pytest.raises(InvalidParameter, match="unknown district 'Atlantis'"):
        run(conn, district="Atlantis")
    with pytest.raises(InvalidParameter, match=r"ambiguous: Sheki \(AZ.SA\), Sheki \(AZ.SK\)"):
        run(conn, district="sheki")
    assert (
        run(conn, district="AZ.SA", risk_within_m="none")["parameters"]["district"]
        == "Sheki (AZ.SA)"
    )


def test_priority_ranks_more_people_nearer_hazards_and_older_sessions_first(conn) -> None:
    village(conn, "big", population=5000)
    village(conn, "small", at=moved(*V, 90.0, 20_000.0), population=50)
    village(conn, "far", at=moved(*V, 90.0, 40_000.0), population=5000)
    village(conn, "covered", at=moved(*V, 90.0, 60_000.0), population=5000)
    for name, gap in (("big", 100), ("small", 100), ("far", 4000), ("covered", 100)):
        at = {
            "big": V,
            "small": moved(*V, 90.0, 20_000.0),
            "far": moved(*V, 90.0, 40_000.0),
            "covered": moved(*V, 90.0, 60_000.0),
        }[name]
        add(conn, "hazard_areas", box_north_of(*at, gap))
    add(conn, "outreach_sessions", shapely.Point(moved(*V, 90.0, 60_000.0)), held_on="2025-12-01")
    answer = run(conn)
    assert [f["properties"]["name"] for f in answer["features"]] == [
        "big",
        "small",
        "far",
        "covered",
    ]
    p = props(answer)
    expected_big = (1 + 3.69906) * (1 - 100 / 5000) * 1.0  # log10(5001)
    assert p["big"]["priority"] == pytest.approx(expected_big, abs=1e-3)
    assert p["covered"]["priority"] == pytest.approx((1 + 3.69906) * 0.98 * 30 / 365, abs=1e-3)


def test_unknown_population_counts_as_the_setting_in_the_score_only(conn) -> None:
    village(conn, "unknown")
    add(conn, "hazard_areas", box_north_of(*V, 0.001 + 2500.0))
    p = props(run(conn))["unknown"]
    assert p["population"] is None
    assert p["priority"] == pytest.approx(
        (1 + 2.69984) * 0.5, abs=2e-3
    )  # log10(501) × (1 - 2500/5000)


def test_status_lists_uncovered_covered_or_all_and_summary_stays_whole(conn) -> None:
    village(conn, "uncovered")
    village(conn, "covered", at=moved(*V, 90.0, 3000.0))
    village(conn, "safe", at=moved(*V, 90.0, 30_000.0))
    add(conn, "hazard_areas", box_north_of(*V, 200.0))
    add(conn, "outreach_sessions", shapely.Point(moved(*V, 90.0, 3500.0)), held_on="2025-02-02")
    listed = {s: set(props(run(conn, status=s))) for s in ("uncovered", "covered", "all")}
    assert listed == {
        "uncovered": {"uncovered"},
        "covered": {"covered"},
        "all": {"uncovered", "covered", "safe"},
    }
    assert run(conn, status="covered")["summary"]["uncovered"] == 1


def test_without_the_risk_condition_every_target_counts_and_no_hazard_is_read(conn) -> None:
    village(conn, "a")
    village(conn, "b", at=moved(*V, 0.0, 50_000.0))
    add(conn, "hazard_areas", box_north_of(*V, 700.0))
    answer = run(conn, risk_within_m="none")
    p = props(answer)
    assert p["a"]["at_risk"] and p["b"]["at_risk"]
    assert "nearest_hazard_m" not in p["a"] and "hazards_within" not in p["a"]
    assert answer["parameters"]["hazard_figures"] is False


def test_target_not_at_risk_has_no_hazard_within_reach_and_no_nearest_figure(conn) -> None:
    village(conn, "far")
    add(conn, "hazard_areas", box_north_of(*V, 12_345.0))
    p = props(run(conn))["far"]
    assert (p["at_risk"], p["hazards_within"], p["nearest_hazard_m"], p["priority"]) == (
        False,
        0,
        None,
        0,
    )


def test_caller_who_may_not_read_hazards_gets_no_hazard_figures(conn) -> None:
    village(conn, "v")
    add(conn, "hazard_areas", box_north_of(*V, 700.0))
    with pytest.raises(Forbidden, match="risk_within_m=none"):
        run(conn, role=Role.public)
    p = props(run(conn, role=Role.public, risk_within_m="none"))["v"]
    assert "nearest_hazard_m" not in p and "hazards_within" not in p


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"target": "nowhere"}, NotFound, "no collection 'nowhere'"),
        ({"by": "villages"}, InvalidParameter, "has no date field"),
        ({"target": "hazard_areas"}, InvalidParameter, "target must be a point layer"),
        (
            {"since": "2025-06-02", "until": "2025-06-01"},
            InvalidParameter,
            "since .* is after until",
        ),
        ({"since": "June"}, InvalidParameter, "since must be a date"),
        ({"within_m": -1}, InvalidParameter, "within_m"),
        ({"within_m": 250_000}, InvalidParameter, "capped at 100,000 m"),
        ({"risk_within_m": "far"}, InvalidParameter, "risk_within_m"),
        ({"risk_within_m": "0"}, InvalidParameter, "risk_within_m"),
        ({"status": "maybe"}, InvalidParameter, "status must be one of"),
    ],
)
def test_bad_parameters_are_refused_with_their_name(conn, params, error, match) -> None:
    with pytest.raises(error, match=match):
        run(conn, **params)


def test_distributions_can_cover_and_an_undated_layer_covers_without_a_window(conn) -> None:
    village(conn, "v")
    add(conn, "hazard_areas", box_north_of(*V, 700.0))
    add(conn, "distributions", shapely.Point(moved(*V, 45.0, 500.0)), distributed_on="2025-04-04")
    assert props(run(conn, by="distributions"))["v"]["covered"] is True
    add(conn, "villages", shapely.Point(moved(*V, 45.0, 900.0)), name="neighbour")
    p = props(
        json.loads(
            coverage_answer(
                conn,
                REGISTRY,
                AnalysisSettings(),
                Role.admin,
                CoverageAsk(by="villages", status="all"),
            ).body
        )
    )
    assert p["v"]["covered"] is True and p["v"]["last_by_on"] is None
