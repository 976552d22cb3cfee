"""The accidents layer, from its spec alone: schema, demo records, API, access, exports, maps."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from gis.maps import builders, nearby
from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_client_fixture, demo_fixture, headers, sql_count  # noqa: F401

SPEC = REGISTRY["accidents"]
PARTS = [f"{o}_{p}" for o in ("killed", "injured") for p in ("girls", "boys", "women", "men")]


def test_no_field_can_hold_a_victims_name_or_identifier() -> None:
    fields = set(SPEC.output_fields)
    assert not {f for f in fields if "name" in f or "victim" in f or "person" in f}
    assert set(PARTS) <= fields and {"killed_total", "injured_total"} <= fields
    assert SPEC.geometry_type == "Point" and SPEC.read_role is Role.partner
    assert SPEC.restricted_fields == {"notes": Role.staff}


def test_the_demo_holds_about_300_synthetic_accidents_mostly_outside_hazard_areas(
    demo: Demo,
) -> None:
    total = sql_count(demo, "SELECT count(*) FROM accidents WHERE source = 'synthetic demo'")
    assert 250 <= total <= 350
    assert sql_count(demo, "SELECT count(*) FROM accidents WHERE source <> 'synthetic demo'") == 0
    outside = sql_count(
        demo,
        "SELECT count(*) FROM accidents a WHERE NOT EXISTS (SELECT 1 FROM hazard_areas h "
        "WHERE h.deleted_at IS NULL AND ST_Intersects(h.geom, a.geom))",
    )
    assert total / 2 < outside < total  # more than half outside, yet some inside
    years = sql_count(
        demo, "SELECT count(DISTINCT extract(year FROM accident_on)) FROM accidents "
        "WHERE accident_on BETWEEN '2021-01-01' AND '2025-12-31'",
    )  # fmt: skip
    assert years == 5
    assert sql_count(demo, "SELECT count(*) FROM accidents WHERE accident_on > '2025-12-31' "
                     "OR accident_on < '2021-01-01'") == 0  # fmt: skip


def test_totals_are_derived_by_the_database_and_counts_cannot_be_negative(conn) -> None:
    row = conn.execute(
        sa.text(
            "INSERT INTO accidents (external_id, source, geom, accident_on, device_category, "
            "killed_men, injured_girls, injured_boys) VALUES ('t', 't', "
            "ST_GeomFromText('POINT(47 40)', 4326), '2024-01-01', 'AT_mine', 2, 1, 3) "
            "RETURNING killed_total, injured_total"
        )
    ).one()
    assert tuple(row) == (2, 4)
    with pytest.raises(sa.exc.DBAPIError, match="killed_boys_non_negative"), conn.begin_nested():
        conn.exec_driver_sql(
            "INSERT INTO accidents (external_id, source, geom, accident_on, device_category, "
            "killed_boys) VALUES ('u', 't', ST_GeomFromText('POINT(47 40)', 4326), "
            "'2024-01-01', 'IED', -1)"
        )


def test_partners_read_accidents_without_notes_the_public_not_at_all(
    demo: Demo, demo_client
) -> None:
    public = demo_client.get("/collections/accidents/items?limit=5")
    assert public.status_code == 404
    partner = demo_client.get(
        "/collections/accidents/items?limit=5", headers=headers(demo, Role.partner)
    ).json()
    assert len(partner["features"]) == 5
    assert "notes" not in partner["features"][0]["properties"]
    staff = demo_client.get(
        "/collections/accidents/items?limit=5", headers=headers(demo, Role.staff)
    ).json()
    assert staff["features"][0]["properties"]["notes"].startswith("Synthetic")


def test_filters_on_the_boolean_and_the_device_category(demo: Demo, demo_client) -> None:
    hdrs = headers(demo, Role.partner)
    queryables = demo_client.get("/collections/accidents/queryables", headers=hdrs).json()
    assert queryables["properties"]["during_clearance"]["type"] == "boolean"
    answer = demo_client.get(
        "/collections/accidents/items?during_clearance=true&device_category=AP_mine&limit=1000",
        headers=hdrs,
    ).json()
    expected = sql_count(
        demo,
        "SELECT count(*) FROM accidents WHERE during_clearance AND device_category = 'AP_mine'",
    )
    assert expected > 0 and len(answer["features"]) == expected
    assert all(f["properties"]["during_clearance"] is True for f in answer["features"])


def test_csv_export_carries_the_hxl_casualty_tags(demo: Demo, demo_client) -> None:
    text = demo_client.get(
        "/collections/accidents/items?f=csv&hxl=true&limit=10", headers=headers(demo, Role.partner)
    ).text
    header, tags, *rows = list(csv.reader(io.StringIO(text)))
    tagged = dict(zip(header, tags, strict=True))
    assert tagged["killed_girls"] == "#affected+killed+f+children"
    assert tagged["injured_total"] == "#affected+injured+total" and len(rows) == 10


def test_the_visit_map_shows_and_lists_the_accidents_within_reach(demo: Demo) -> None:
    with demo.engine.connect() as conn:
        lon, lat = conn.execute(sa.text("SELECT ST_X(geom), ST_Y(geom) FROM accidents "
                                        "ORDER BY id LIMIT 1")).one()  # fmt: skip
        expected = conn.scalar(
            sa.text("SELECT count(*) FROM accidents WHERE deleted_at IS NULL AND ST_DWithin("
                    "geography(geom), geography(ST_SetSRID(ST_MakePoint(:x, :y), 4326)), 5000)"),
            {"x": lon, "y": lat},
        )  # fmt: skip
        found = nearby.visit(conn, REGISTRY, Role.partner, nearby.Place(lon, lat), 5_000)
        page = builders.visit(conn, REGISTRY, Role.partner, lon=lon, lat=lat, radius_m=5_000)
    assert expected >= 1 and page.counts["accidents"] == expected
    facts = builders.visit_facts(found, "5.0 km")
    assert any(f.startswith(f"Accidents: {expected:,} on record within 5.0 km") for f in facts)
