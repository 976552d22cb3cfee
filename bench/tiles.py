"""Vector tile timings for `make bench`: p50/p95 of the served tiles at zooms 8-14 on the hazard
areas and the risk-education sessions, as a ratio to PostgreSQL building the same tile alone (the
same statement, gis/tiles.py, run directly). Goal: at most 1.5x.

Each tile is timed twice over: **built**, its first request after the layer's change counter
moved (an empty UPDATE moves it, as any write statement does, without changing a row), and
**kept**, the requests after that, which the process answers from its tile cache
(gis/tile_cache.py) while the layer is unchanged. PostgreSQL alone builds the tile every time."""

from __future__ import annotations

import math
import re
import statistics
import time

import httpx
import psycopg
import sqlalchemy as sa

from gis.spec import Role
from gis.tiles import TileId, tile_statement
from layers import REGISTRY

LAYERS = ("hazard_areas", "outreach_sessions")
ZOOMS = range(8, 15)
TILES_PER_ZOOM = 4
REPEAT = 5
GOAL_RATIO = 1.5
BIND = re.compile(r"(?<!:):(\w+)")


def _tiles(conn: sa.Connection, layer: str) -> list[TileId]:
    """Tiles around a few of the layer's features (spread by id), per zoom."""
    t = REGISTRY[layer].table
    points = conn.execute(
        sa.select(
            sa.func.ST_X(sa.func.ST_PointOnSurface(t.c.geom)),
            sa.func.ST_Y(sa.func.ST_PointOnSurface(t.c.geom)),
        )
        .where(t.c.deleted_at.is_(None))
        .order_by(sa.func.md5(sa.cast(t.c.id, sa.Text)))
        .limit(TILES_PER_ZOOM)
    ).all()
    found = []
    for z in ZOOMS:
        n = 2**z
        for lon, lat in points:
            col = int((lon + 180) / 360 * n)
            row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            found.append(TileId(z, row, col))
    return found


def _quantiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def run(engine_url: str, dsn: str, base_url: str, key: str, role: Role) -> list[dict[str, object]]:
    engine = sa.create_engine(engine_url)
    rows: list[dict[str, object]] = []
    try:
        with (
            engine.connect() as conn,
            psycopg.connect(dsn) as pg,
            httpx.Client(base_url=base_url, headers={"X-API-Key": key}, timeout=60) as http,
        ):
            for layer in LAYERS:
                spec = REGISTRY[layer]
                tiles = _tiles(conn, layer)
                built: list[float] = []
                kept: list[float] = []
                alone: list[float] = []
                table = spec.table.name
                with psycopg.connect(dsn, autocommit=True) as writer:
                    writer.execute(f'UPDATE "{table}" SET id = id WHERE false')  # moves the counter
                for round_ in range(REPEAT):
                    app = built if round_ == 0 else kept
                    for tile in tiles:
                        path = (
                            f"/collections/{layer}/tiles/WebMercatorQuad/"
                            f"{tile.z}/{tile.row}/{tile.col}"
                        )
                        started = time.perf_counter()
                        response = http.get(path)
                        app.append((time.perf_counter() - started) * 1000)
                        response.raise_for_status()
                        stmt, values = tile_statement(spec, role, tile)
                        sql = BIND.sub(r"%(\1)s", stmt.text)  # the same SQL, psycopg's binds
                        started = time.perf_counter()
                        pg.execute(sql, values).fetchone()
                        alone.append((time.perf_counter() - started) * 1000)
                p50, p95 = _quantiles(alone)
                for how, app in (("built", built), ("kept", kept)):
                    a50, a95 = _quantiles(app)
                    rows.append(
                        {
                            "name": f"tiles: {layer} z{ZOOMS.start}-{ZOOMS.stop - 1}, {how}",
                            "tiles": len(tiles),
                            "app_p50_ms": round(a50, 2),
                            "app_p95_ms": round(a95, 2),
                            "pg_p50_ms": round(p50, 2),
                            "pg_p95_ms": round(p95, 2),
                            "ratio_p50": round(a50 / p50, 2) if p50 else None,
                            "ratio_p95": round(a95 / p95, 2) if p95 else None,
                            "goal_ratio": GOAL_RATIO,
                        }
                    )
    finally:
        engine.dispose()
    return rows
