"""Display simplification at a map's scale (issue 11): outlines are simplified and rounded for
drawing only; no hazard area is dropped, merged or emptied, and popups keep the stored figures."""

from __future__ import annotations

import datetime as dt

import shapely
import sqlalchemy as sa
from shapely.geometry import shape

from gis.maps import data
from gis.spec import Role
from layers import REGISTRY
from tests import map_packed
from tests.browser.records import insert, square


def wiggly(lon: float, lat: float, size: float, n: int = 400) -> str:
    """A closed ring of `n` vertices zig-zagging by a metre: detail no national view shows."""
    ring = shapely.Point(lon, lat).buffer(size, quad_segs=n // 4)
    coords = [(x + (0.00001 if i % 2 else 0), y) for i, (x, y) in enumerate(ring.exterior.coords)]
    coords[-1] = coords[0]
    return shapely.MultiPolygon([shapely.Polygon(coords)]).wkt


def hazard(conn: sa.Connection, wkt: str, name: str) -> int:
    return insert(
        conn, "hazard_areas", wkt, name=name, hazard_type="AP_mine", status="confirmed",
        recorded_on=dt.date(2020, 1, 1),
    )  # fmt: skip


def test_national_shapes_are_simplified_but_every_hazard_is_drawn_with_exact_figures(conn) -> None:
    thin = "MULTIPOLYGON(((46.6 40.5, 46.62 40.5, 46.62 40.50002, 46.6 40.50002, 46.6 40.5)))"
    ids = {
        "tiny": hazard(conn, square(46.5, 40.5, 0.00005), "Tiny"),  # about 5 m across
        "thin": hazard(conn, thin, "Thin"),  # 2 m wide
        "wiggly": hazard(conn, wiggly(46.7, 40.6, 0.02), "Wiggly"),
        # two touching areas stay two
        "left": hazard(conn, square(46.8, 40.7, 0.0004), "Left"),
        "right": hazard(conn, square(46.8004, 40.7, 0.0004), "Right"),
    }
    selection = data.overview(conn, REGISTRY, Role.admin)
    [hazards] = [layer for layer in selection.layers if layer.spec.name == "hazard_areas"]
    drawn = {f["id"]: f for f in map_packed.features(hazards)}
    table = REGISTRY["hazard_areas"].table
    live = set(conn.scalars(sa.select(table.c.id).where(table.c.deleted_at.is_(None))))
    assert set(drawn) == live and hazards.count == len(live)  # none dropped, none merged
    exact = dict(
        conn.execute(
            sa.select(table.c.id, sa.func.ST_AsBinary(table.c.geom)).where(
                table.c.id.in_(ids.values())
            )
        ).all()
    )
    for name, i in ids.items():
        shown = shape(drawn[i]["geometry"])
        stored = shapely.from_wkb(bytes(exact[i]))
        assert not shown.is_empty and shown.area > 0, name
        # drawn within the layer's stated tolerance of the stored outline, both ways
        tolerance_deg = hazards.tolerance_m / 111_700
        assert shown.hausdorff_distance(stored) <= tolerance_deg, name
        area = conn.scalar(sa.select(table.c.area_m2).where(table.c.id == i))
        assert drawn[i]["properties"]["area_m2"] == f"{round(area):,} m²", name
    # the tiny one is drawn as a box of the scale's size around it (its centroid inside), not a speck
    tiny = shape(drawn[ids["tiny"]]["geometry"])
    centroid = shapely.from_wkb(bytes(exact[ids["tiny"]])).centroid
    assert tiny.contains(centroid)
    minx, miny, maxx, maxy = tiny.bounds
    assert maxx - minx >= data.NATIONAL.tolerance_deg * 0.99
    assert maxy - miny >= data.NATIONAL.tolerance_deg * 0.99
    # the wiggly outline lost its metre-scale detail (its popup still says its exact area)
    wiggly_shown = shape(drawn[ids["wiggly"]]["geometry"])
    assert len(shapely.get_coordinates(wiggly_shown)) < 100
    # a district map keeps more detail, a visit map the stored outline
    district = data.collect(conn, REGISTRY["hazard_areas"], Role.admin, data.DISTRICT)
    local = data.collect(conn, REGISTRY["hazard_areas"], Role.admin, data.LOCAL)
    assert 0 < district.tolerance_m < hazards.tolerance_m and local.tolerance_m == 0
    exact_local = {f["id"]: shape(f["geometry"]) for f in map_packed.features(local)}
    stored = shapely.from_wkb(bytes(exact[ids["wiggly"]]))
    assert exact_local[ids["wiggly"]].hausdorff_distance(stored) < 1e-6
