"""What `make bench` measures: each request as the app serves it, and the same SQL run by psycopg.

PostgreSQL alone runs exactly the statement the app runs (`gis.items.page_statement`), with the
same parameters and the same result handling (the JSON read as bytes), so the ratio is what the
HTTP service adds on top of PostgreSQL producing the GeoJSON by itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg

from gis.items import BytesLoader, item_statement, page_statement, run_page
from gis.params import parse_bbox
from gis.query import build_items_query, encode_cursor, parse_page
from gis.spec import Role
from layers import REGISTRY

ROLE = Role.admin  # the bench's key; hazard areas need partner or above
BBOX_SIZE_DEG = 0.1


@dataclass(frozen=True)
class Request:
    """One request: the app's URL path and query, and how PostgreSQL alone answers the same."""

    path: str
    run_alone: Callable[[psycopg.Connection], object]


def page_request(layer: str, limit: int, bbox: str | None = None) -> Request:
    params: dict[str, str] = {"limit": str(limit)}
    if bbox:
        params["bbox"] = bbox
    spec = REGISTRY[layer]
    q = build_items_query(
        spec,
        ROLE,
        {},
        parse_page(limit, None, None, 100, 10_000),
        bbox=parse_bbox(bbox) if bbox else None,
    )
    statement, values = page_statement(q)
    return Request(
        f"/collections/{layer}/items?{urlencode(params)}",
        lambda pg: run_page(pg, statement, values, limit),
    )


def item_request(layer: str, feature_id: int) -> Request:
    spec = REGISTRY[layer]
    statement = item_statement(spec, spec.visible_fields(ROLE))
    values = statement.params({"id": feature_id})

    def alone(pg: psycopg.Connection) -> object:
        with pg.cursor() as cur:
            cur.adapters.register_loader("text", BytesLoader)
            cur.execute(statement.sql, values)
            return cur.fetchone()

    return Request(f"/collections/{layer}/items/{feature_id}", alone)


def random_bboxes(points: list[tuple[float, float]], n: int, seed: int) -> list[str]:
    """~0.1° boxes around random stored points, so that most of them hold features."""
    rng = random.Random(seed)
    half = BBOX_SIZE_DEG / 2
    out = []
    for _ in range(n):
        x, y = rng.choice(points)
        x, y = x + rng.uniform(-half, half), y + rng.uniform(-half, half)
        out.append(f"{x - half:.5f},{y - half:.5f},{x + half:.5f},{y + half:.5f}")
    return out


def walk_alone(layer: str, limit: int) -> Callable[[psycopg.Connection], int]:
    """Paging through a whole layer as the app's next links do (keyset on id), PostgreSQL alone."""
    spec = REGISTRY[layer]

    def walk(pg: psycopg.Connection) -> int:
        seen, cursor = 0, None
        while True:
            q = build_items_query(spec, ROLE, {}, parse_page(limit, None, cursor, 100, 10_000))
            statement, values = page_statement(q)
            page = run_page(pg, statement, values, limit)
            seen += page.returned
            if not page.has_more or page.last_key is None:
                return seen
            cursor = encode_cursor(q.sort, False, page.last_key)

    return walk


def sample_points(
    pg: psycopg.Connection, layer: str, n: int, seed: int
) -> list[tuple[float, float]]:
    table = REGISTRY[layer].table.name
    with pg.cursor() as cur:
        cur.execute(f"SELECT setseed({(seed % 1000) / 1000})")
        cur.execute(
            f"SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM {table} "
            "WHERE deleted_at IS NULL ORDER BY random() LIMIT %s",
            (n,),
        )
        return [(float(x), float(y)) for x, y in cur.fetchall()]


def sample_ids(pg: psycopg.Connection, layer: str, n: int) -> list[int]:
    table = REGISTRY[layer].table.name
    with pg.cursor() as cur:
        cur.execute(
            f"SELECT id FROM {table} WHERE deleted_at IS NULL ORDER BY random() LIMIT %s", (n,)
        )
        return [int(r[0]) for r in cur.fetchall()]
