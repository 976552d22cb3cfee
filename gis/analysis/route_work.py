"""How much work a route check would be, estimated before it runs, so that a check allowed by
every cap but too big to finish is refused with what to lower instead of timing out.

The exact check measures every candidate feature against every position of the route, so its
cost grows with candidates × positions. Candidates are counted by the GiST index over boxes of
the route's stretches grown by the buffer (a superset, as the check's own first step), stopping
at the count the budget allows.
"""

from __future__ import annotations

import math

import shapely
import sqlalchemy as sa

from gis.analysis.common import quote
from gis.errors import invalid
from gis.spec import LayerSpec

MAX_BOXES = 200
DENSIFY_DEG = 0.05  # a long straight segment is cut so that no box spans a whole country

COUNT_SQL = """
SELECT count(*) FROM (
    SELECT DISTINCT t.id
    FROM unnest(CAST(:x0 AS float8[]), CAST(:y0 AS float8[]), CAST(:x1 AS float8[]),
                CAST(:y1 AS float8[])) AS b(x0, y0, x1, y1)
    JOIN {table} t ON t.geom && ST_MakeEnvelope(b.x0, b.y0, b.x1, b.y1, 4326)
    WHERE t.deleted_at IS NULL
    LIMIT :cap
) c
"""


def _boxes(route: shapely.LineString, buffer_m: float) -> dict[str, list[float]]:
    """Boxes around consecutive stretches of the route, grown by the buffer in degrees."""
    coords = shapely.get_coordinates(shapely.segmentize(route, DENSIFY_DEG))
    size = max(2, math.ceil(len(coords) / MAX_BOXES))
    out: dict[str, list[float]] = {"x0": [], "y0": [], "x1": [], "y1": []}
    for start in range(0, len(coords) - 1, size - 1):
        chunk = coords[start : start + size]
        (x0, y0), (x1, y1) = chunk.min(axis=0), chunk.max(axis=0)
        widest = min(89.0, max(abs(y0), abs(y1)))
        dx = buffer_m * 1.01 / (111_319.49 * math.cos(math.radians(widest))) + 1e-7
        dy = buffer_m * 1.01 / 110_574.0 + 1e-7
        for key, value in (("x0", x0 - dx), ("y0", y0 - dy), ("x1", x1 + dx), ("y1", y1 + dy)):
            out[key].append(float(value))
    return out


def check_route_work(
    conn: sa.Connection,
    route: shapely.LineString,
    buffer_m: float,
    layers: list[LayerSpec],
    max_work: int,
) -> None:
    """Refuse (InvalidInput, 422) a route check whose candidates × positions exceed `max_work`."""
    positions = len(route.coords)
    cap = max_work // positions + 1
    boxes = _boxes(route, buffer_m)
    candidates = 0
    for spec in layers:
        sql = COUNT_SQL.format(table=quote(spec.table.name))
        candidates += int(conn.execute(sa.text(sql), {**boxes, "cap": cap}).scalar_one())
        if candidates * positions > max_work:
            raise invalid(
                f"this route check is too big to finish: at least {candidates:,} features "
                f"lie near a route of {positions:,} positions (at most {max_work:,} "
                f"feature-position measurements); lower buffer_m (now {buffer_m:,.0f} m) or send "
                "the route with fewer positions (simplify it)",
                field="buffer_m",
            )
