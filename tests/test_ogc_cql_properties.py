"""Random CQL2 expressions over the villages' queryables select the ids an independent evaluation
in Python selects (shapely for the spatial operators, pyproj's geodesic for S_DWITHIN)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod

from .ogc_support import Demo, demo_client_fixture, demo_fixture  # noqa: F401

GEOD = Geod(ellps="WGS84")
CODES = ["AZ.AM", "AZ.TA", "AZ.FU", "AZ.BA", "AZ.AA", "AZ.XX"]


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    code: str | None
    population: int | None
    lon: float
    lat: float


@pytest.fixture(scope="module")
def villages(demo: Demo) -> list[Row]:
    with demo.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id, name, district_code, population, ST_X(geom), ST_Y(geom) "
                "FROM villages WHERE deleted_at IS NULL"
            )
        ).all()
    return [Row(int(r[0]), r[1], r[2], r[3], float(r[4]), float(r[5])) for r in rows]


# Each node: (cql2 text, evaluate(row) -> True/False/None (SQL NULL), uncertain(row) -> bool).
Node = tuple[str, Any, Any]


def _never(_: Row) -> bool:
    return False


def comparison() -> st.SearchStrategy[Node]:
    ops = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
           ">=": lambda a, b: a >= b, "=": lambda a, b: a == b, "<>": lambda a, b: a != b}  # fmt: skip

    def build(op: str, value: int) -> Node:
        f = ops[op]
        return (f"population {op} {value}",
                lambda r: None if r.population is None else f(r.population, value), _never)  # fmt: skip

    return st.builds(build, st.sampled_from(sorted(ops)), st.integers(0, 5000))


def membership() -> st.SearchStrategy[Node]:
    def build(codes: list[str]) -> Node:
        listed = ", ".join(f"'{c}'" for c in codes)
        return (f"district_code IN ({listed})",
                lambda r: None if r.code is None else r.code in codes, _never)  # fmt: skip

    return st.builds(build, st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True))


def like() -> st.SearchStrategy[Node]:
    def build(prefix: str, suffix: bool) -> Node:
        pattern = f"{prefix}%" if not suffix else f"%{prefix.lower()}%"
        regex = re.compile(
            "^" + ".*".join(re.escape(p) for p in pattern.split("%")) + "$", re.DOTALL
        )
        return (f"name LIKE '{pattern}'", lambda r: bool(regex.match(r.name)), _never)

    return st.builds(build, st.sampled_from(["A", "Qa", "Ye", "Bo", "Sa", "Ka"]), st.booleans())


def between() -> st.SearchStrategy[Node]:
    def build(low: int, span: int) -> Node:
        high = low + span
        return (f"population BETWEEN {low} AND {high}",
                lambda r: None if r.population is None else low <= r.population <= high, _never)  # fmt: skip

    return st.builds(build, st.integers(0, 3000), st.integers(0, 3000))


def is_null() -> st.SearchStrategy[Node]:
    return st.just(("population IS NULL", lambda r: r.population is None, _never))


def intersects() -> st.SearchStrategy[Node]:
    def build(lon: float, lat: float, w: float, h: float) -> Node:
        box = shapely.box(lon, lat, lon + w, lat + h)
        # Points on the box's edge are decided by floating point in both; treat them as uncertain.
        edge = box.boundary
        return (f"S_INTERSECTS(geometry, {box.wkt})",
                lambda r: box.intersects(shapely.Point(r.lon, r.lat)),
                lambda r: edge.distance(shapely.Point(r.lon, r.lat)) < 1e-9)  # fmt: skip

    return st.builds(build, st.floats(45.0, 49.5), st.floats(38.5, 41.5),
                     st.floats(0.05, 1.0), st.floats(0.05, 1.0))  # fmt: skip


def dwithin() -> st.SearchStrategy[Node]:
    def build(lon: float, lat: float, metres: int) -> Node:
        def distance(r: Row) -> float:
            return float(GEOD.inv(lon, lat, r.lon, r.lat)[2])

        # PostGIS's spheroid distance and pyproj's agree to well under a metre here.
        return (f"S_DWITHIN(geometry, POINT({lon} {lat}), {metres}, meters)",
                lambda r: distance(r) <= metres, lambda r: abs(distance(r) - metres) < 1.0)  # fmt: skip

    return st.builds(build, st.floats(45.5, 49.0), st.floats(38.8, 41.5), st.integers(500, 40_000))


ATOMS = st.one_of(comparison(), membership(), like(), between(), is_null(), intersects(), dwithin())


def _and(a: Any, b: Any) -> Any:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def combine(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    def both(op: str, x: Node, y: Node) -> Node:
        f = _and if op == "AND" else _or
        return (f"({x[0]}) {op} ({y[0]})", lambda r: f(x[1](r), y[1](r)),
                lambda r: x[2](r) or y[2](r))  # fmt: skip

    def negate(x: Node) -> Node:
        return (f"NOT ({x[0]})", lambda r: None if x[1](r) is None else not x[1](r), x[2])

    return st.one_of(
        st.builds(both, st.sampled_from(["AND", "OR"]), children, children),
        st.builds(negate, children),
    )


EXPRESSIONS = st.recursive(ATOMS, combine, max_leaves=5)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(expression=EXPRESSIONS)
def test_random_cql2_selects_what_python_selects(
    demo_client, villages: list[Row], expression: Node
) -> None:
    text, evaluate, uncertain = expression
    response = demo_client.get(
        "/collections/villages/items",
        params={"filter": text, "limit": "10000", "properties": "", "skipGeometry": "true"},
    )
    assert response.status_code == 200, (text, response.text)
    got = {f["id"] for f in response.json()["features"]}
    doubtful = {r.id for r in villages if uncertain(r)}
    expected = {r.id for r in villages if evaluate(r) is True}
    assert got - doubtful == expected - doubtful, text
