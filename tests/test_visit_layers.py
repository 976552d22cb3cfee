"""A visit map draws and lists every activity layer within reach, not only the ones with a role."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pyproj import Geod

from gis.maps import builders, nearby
from gis.spec import Role
from layers import REGISTRY
from tests import map_packed
from tests.browser.records import insert, point, square


def test_a_layer_without_a_role_is_drawn_and_listed_with_its_nearest_distance(conn) -> None:
    insert(conn, "districts", square(46.0, 40.0, 0.5), name="Alpha", code="T.A")
    near = insert(conn, "distributions", point(46.26, 40.25), distributed_on=dt.date(2024, 3, 1),
                  item_category="food")  # fmt: skip
    insert(
        conn,
        "distributions",
        point(46.45, 40.25),
        distributed_on=dt.date(2024, 3, 1),
        item_category="seeds",
    )  # fmt: skip  (about 17 km east: beyond a 5 km reach)
    found = nearby.visit(conn, REGISTRY, Role.partner, nearby.Place(46.25, 40.25), 5_000)
    others = {w.spec.name: w for w in found.others}
    assert set(others) == {s.name for s in REGISTRY.values()} - {
        "hazard_areas", "facilities", "outreach_sessions", "villages", "districts"
    }  # fmt: skip
    expected_m = Geod(ellps="WGS84").inv(46.25, 40.25, 46.26, 40.25)[2]
    assert others["distributions"].count == 1
    assert abs((others["distributions"].nearest_m or 0) - expected_m) < 0.5
    drawn = {layer.key: layer for layer in found.selection.layers}
    assert [f["id"] for f in map_packed.features(drawn["distributions"])] == [near]
    facts = builders.visit_facts(found, "5.0 km")
    assert (
        f"Distributions: 1 on record within 5.0 km, the nearest {builders.metres(expected_m)} away."
        in facts
    )


def test_a_layer_the_role_may_not_read_is_named_hidden_on_the_visit(conn) -> None:
    found = nearby.visit(conn, REGISTRY, Role.public, nearby.Place(46.25, 40.25), 5_000)
    assert "Distributions" in found.selection.hidden
    assert "distributions" not in {w.spec.name for w in found.others}


def test_a_distance_just_under_a_kilometre_reads_as_one_kilometre_never_as_hashes(conn) -> None:
    # to_char(1000, 'FM990') is '###': a distance that rounds up to 1,000 m must read in km
    texts = {
        m: conn.scalar(sa.select(nearby.distance_text(sa.literal(m, sa.Float()))))
        for m in (0.2, 12.4, 999.4, 999.5, 999.9, 1000.0, 1049.0, 4_999.96)
    }
    assert texts == {
        0.2: "0 m (the centre is inside)",
        12.4: "12 m",
        999.4: "999 m",
        999.5: "1.0 km",
        999.9: "1.0 km",
        1000.0: "1.0 km",
        1049.0: "1.0 km",
        4_999.96: "5.0 km",
    }
