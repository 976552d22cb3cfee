"""The analysis indexes (migration 0004) match the layer specs, and coverage uses them."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
import shapely
import sqlalchemy as sa

from gis.analysis import pairs
from gis.analysis.coverage import coverage_question, coverage_sql
from gis.spec import Role
from layers import REGISTRY

from .test_analysis_geo import add, box_north_of, moved

migration = importlib.import_module("layers.migrations.versions.0004_analysis_indexes")


def test_partial_hazard_index_holds_exactly_the_active_statuses() -> None:
    # The migration cannot read the spec (migrations must not change when code does), so this
    # keeps the two from drifting apart.
    assert REGISTRY["hazard_areas"].active_filter == {"status": migration.ACTIVE_HAZARD_STATUSES}


@pytest.mark.parametrize(("table", "column"), migration.POINT_ACTIVITIES.items())
def test_point_activity_index_carries_the_temporal_field(table: str, column: str) -> None:
    spec = REGISTRY[table]
    assert spec.geometry_type == "Point" and spec.temporal_field == column


def test_coverage_counts_measured_pairs_and_reads_sessions_from_their_index(
    conn: sa.Connection,
) -> None:
    v = (47.0, 40.0)
    for i in range(30):
        add(conn, "villages", shapely.Point(moved(*v, 12.0 * i, 500.0 * i)), name=f"v{i}")
        add(conn, "hazard_areas", box_north_of(*moved(*v, 12.0 * i, 400.0 * i), 800.0))
        add(
            conn,
            "outreach_sessions",
            shapely.Point(moved(*v, 12.0 * i, 450.0 * i)),
            held_on="2025-03-03",
        )
    conn.exec_driver_sql("ANALYZE villages, hazard_areas, outreach_sessions")
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    q = coverage_question(
        target=REGISTRY["villages"],
        by=REGISTRY["outreach_sessions"],
        area=REGISTRY["districts"],
        hazard=REGISTRY["hazard_areas"],
        role=Role.admin,
        within_m=2000,
        risk_within_m=5000,
        since=dt.date(2025, 1, 1),
        until=dt.date(2025, 12, 31),
        status="all",
    )
    pairs.refresh(conn, REGISTRY["hazard_areas"], REGISTRY["villages"])
    sql, params = coverage_sql(q)
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    plan = "\n".join(r[0] for r in conn.execute(sa.text("EXPLAIN " + sql), params))
    assert "on analysis_pairs p" in plan, plan
    assert "Index Only Scan using outreach_sessions_geom_gist_live" in plan, plan
