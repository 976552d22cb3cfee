"""The analyses in `make bench`: coverage (country, one district), nearest, within, a route check
and exposure, each timed over the HTTP API as a client sees it.

`run(engine_url, base_url, headers)` is called by `python -m bench` against a served
app on a database loaded with the `large` demo; the key in `headers` must be partner or above (the
analyses read the hazard areas). Points and routes are drawn from the villages, so the figures do
not depend on one lucky spot.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import sqlalchemy as sa
from pyproj import Geod

RUNS = 30
WARMUP = 2
# The targets, median over the runs.
TARGET_MS = {
    "coverage whole country": 300.0,
    "coverage one district (Aghdam)": 60.0,
    "nearest k=5": 20.0,
    "within 1 km of a point": 20.0,
    "route check 50 km": 50.0,
    "exposure whole country": 500.0,
}

Call = Callable[[httpx.Client, int], httpx.Response]


def _villages(engine_url: str, n: int, seed: int) -> list[tuple[float, float]]:
    engine = sa.create_engine(engine_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT ST_X(geom), ST_Y(geom) FROM villages WHERE deleted_at IS NULL ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    rng = random.Random(seed)
    return [(float(x), float(y)) for x, y in rng.sample(rows, min(n, len(rows)))]


def _routes(points: list[tuple[float, float]], length_m: float, seed: int) -> list[dict[str, Any]]:
    """Routes of `length_m` from the given points, bending a little, in 1 km legs."""
    geod, rng, routes = Geod(ellps="WGS84"), random.Random(seed), []
    for lon, lat in points:
        azimuth, coords = rng.uniform(0, 360), [(lon, lat)]
        for _ in range(int(length_m // 1000)):
            azimuth += rng.uniform(-20, 20)
            lon, lat, _ = geod.fwd(lon, lat, azimuth, 1000.0)
            coords.append((lon, lat))
        routes.append({"type": "LineString", "coordinates": coords})
    return routes


def _time(client: httpx.Client, name: str, call: Call) -> dict[str, object]:
    for i in range(WARMUP):
        call(client, i)
    latencies, size = [], 0
    for i in range(RUNS):
        start = time.perf_counter()
        response = call(client, i)
        latencies.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.text[:300]}")
        size = len(response.content)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000
    target = TARGET_MS.get(name)
    return {
        "name": name,
        "runs": RUNS,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "bytes": size,
        "target_ms": target,
        "met": None if target is None else p50 <= target,
    }


def run(engine_url: str, base_url: str, headers: dict[str, str]) -> list[dict[str, object]]:
    """Median and 95th percentile latency of each analysis, in the order of the issue."""
    points = _villages(engine_url, RUNS + WARMUP, seed=4)
    routes = _routes(points, 50_000.0, seed=4)
    year: dict[str, Any] = {"since": "2025-01-01", "until": "2025-12-31"}

    def get(path: str, params: Callable[[int], dict[str, Any]]) -> Call:
        return lambda client, i: client.get(path, params=params(i))

    calls: list[tuple[str, Call]] = [
        ("coverage whole country", get("/analysis/coverage", lambda i: {})),
        ("coverage whole country, 2025", get("/analysis/coverage", lambda i: year)),
        (
            "coverage one district (Aghdam)",
            get("/analysis/coverage", lambda i: {"district": "Aghdam", **year}),
        ),
        (
            "nearest k=5",
            get(
                "/analysis/nearest",
                lambda i: {
                    "layer": "hazard_areas",
                    "k": 5,
                    "lon": points[i][0],
                    "lat": points[i][1],
                },
            ),
        ),
        (
            "within 1 km of a point",
            get(
                "/analysis/within",
                lambda i: {
                    "layer": "outreach_sessions",
                    "distance_m": 1000,
                    "lon": points[i][0],
                    "lat": points[i][1],
                },
            ),
        ),
        (
            "route check 50 km",
            lambda client, i: client.post("/analysis/route-check", json=routes[i]),
        ),
        ("exposure whole country", get("/analysis/exposure", lambda i: {"within_m": 1000})),
    ]
    with httpx.Client(base_url=base_url, headers=headers, timeout=300) as client:
        return [_time(client, name, call) for name, call in calls]
