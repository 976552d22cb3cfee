"""Issue 13 in `make bench`: CQL2 filters, place search and the whole-layer FlatGeobuf download.

- CQL2 (an attribute filter and an S_INTERSECTS polygon): the app's page against PostgreSQL
  running the very statement the app compiles (same WHERE, same parameters); goal p50 ≤ 2×.
- Place search: absolute p50, goal under 20 ms.
- FlatGeobuf of every session (`limit=all`) against `ST_AsFlatGeobuf` of the same rows alone,
  built (a write to the layer before each download, so the download cache must rebuild) and
  cached. The app has GDAL write the file from an Arrow stream: `ST_AsFlatGeobuf` writes wrong
  properties after a NULL (gis.outputs.arrow_files), so it is only the yardstick here.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

import httpx
import psycopg

from bench import measure
from bench.scenarios import ROLE, Request
from gis.items import page_statement, run_page
from gis.query import build_items_query, parse_page
from layers import REGISTRY

Record = Callable[[str, str, float, measure.Samples, measure.Samples], None]
Alternate = Callable[..., tuple[measure.Samples, measure.Samples]]

POLYGON = "POLYGON((46.6 39.7, 47.4 39.7, 47.4 40.3, 46.9 40.4, 46.6 39.7))"
FILTERS = {
    "attribute": "held_on >= DATE('2024-01-01') AND modality IN ('school', 'community')",
    "S_INTERSECTS": f"S_INTERSECTS(geometry, {POLYGON})",
}
QUERIES = ("Quzanli", "quzanlı", "Кузанлы", "Quzanly", "Aghdam", "Yenikənd", "Şuşa", "Barda")


def filter_request(layer: str, text: str, limit: int = 100) -> Request:
    spec = REGISTRY[layer]
    q = build_items_query(
        spec, ROLE, {}, parse_page(limit, None, None, 100, 10_000), filter_text=text
    )
    statement, values = page_statement(q)
    path = f"/collections/{layer}/items?{urlencode({'limit': limit, 'filter': text})}"
    return Request(path, lambda pg: run_page(pg, statement, values, limit))


def search_request(text: str) -> Request:
    return Request(f"/search?{urlencode({'q': text})}", lambda pg: None)


def flatgeobuf_alone(pg: psycopg.Connection) -> object:
    return pg.execute(
        "SELECT ST_AsFlatGeobuf(f, true, 'geom') FROM (SELECT external_id, held_on, audience, "
        "modality, girls, boys, women, men, participants_total, organisation, place_name, source, "
        "geom FROM outreach_sessions WHERE deleted_at IS NULL ORDER BY id) f"
    ).fetchone()


def run(
    client: httpx.Client,
    pg: psycopg.Connection,
    rounds: int,
    scale: int,
    alternate: Alternate,
    record: Record,
) -> None:
    for name, text in FILTERS.items():
        request = filter_request("outreach_sessions", text)
        n = max(3, 200 // scale // rounds)
        app_s, alone_s = alternate(rounds, lambda: measure.run_app(client, [request] * n),
                                   lambda: measure.run_alone(pg, [request] * n))  # fmt: skip
        record(f"CQL2 {name} filter, limit=100", "latency", 2.0, app_s, alone_s)

    searches = [search_request(q) for q in QUERIES] * max(1, 40 // scale)
    app_s = measure.run_app(client, searches)
    floor = measure.run_alone(pg, [Request("/", lambda c: c.execute("SELECT 1").fetchone())])
    # Absolute goal: the "ratio" column is meaningless here; the target is p50 ≤ 20 ms.
    record("place search /search?q= (p50 goal < 20 ms)", "info", 0.0, app_s, floor)

    download = Request("/collections/outreach_sessions/items?f=fgb&limit=all", flatgeobuf_alone)
    n = max(1, 4 // scale)
    app_s, alone_s = alternate(rounds, lambda: built(client, pg, download, n),
                               lambda: measure.run_alone(pg, [download] * n))  # fmt: skip
    record("all sessions as FlatGeobuf, built, vs ST_AsFlatGeobuf", "latency", 1.5, app_s, alone_s)
    app_s, alone_s = alternate(rounds, lambda: measure.run_app(client, [download] * n),
                               lambda: measure.run_alone(pg, [download] * n))  # fmt: skip
    record("all sessions as FlatGeobuf, cached, vs ST_AsFlatGeobuf", "latency", 1.0, app_s, alone_s)


def built(
    client: httpx.Client, pg: psycopg.Connection, request: Request, n: int
) -> measure.Samples:
    """Each download after a write to its layer (untimed): the cached file is stale, so rebuilt."""
    samples = measure.Samples()
    for _ in range(n):
        # An empty UPDATE is still a write statement: the layer's change counter moves.
        pg.execute("UPDATE outreach_sessions SET updated_at = updated_at WHERE false")
        samples.add(measure.run_app(client, [request]))
    return samples
