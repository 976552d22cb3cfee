"""A bounded mixed load (reads, analyses, writes) with one PostgreSQL restart in the middle.

It runs against its own throw-away cluster (bench.tempcluster), never the shared server: the app
is served as production runs it (`safeground serve --workers 2`), loopback only. Prints requests
per class, status codes, latency, and lost writes (a 201 whose feature is not stored afterwards).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import shapely
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from bench.serving import served
from bench.tempcluster import temp_cluster
from gis.access import create_key
from gis.spec import Role
from layers import REGISTRY

console = Console(width=150)
SECONDS = 60.0
OUTAGE_AT_S, OUTAGE_S = 20.0, 5.0
MAX_REQUESTS_PER_WORKER = 20_000  # a bound besides the clock
WORKERS = {"read": 3, "analysis": 1, "write": 2}


@dataclass
class Tally:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    acknowledged: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1
            self.latencies.setdefault(kind, []).append(seconds)


def _seed(url: sa.URL) -> str:
    """A small synthetic world (every record says synthetic), and an editor key."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for i in range(300):
            lon, lat = 46.5 + (i % 30) * 0.02, 39.8 + (i // 30) * 0.02
            for layer, extra in (("villages", {"name": f"Village {i}"}),
                                 ("facilities", {"name": f"School {i}", "facility_type": "school"})):  # fmt: skip
                conn.execute(sa.insert(REGISTRY[layer].table).values(
                    external_id=f"seed:{layer}:{i}", source="synthetic (bench)",
                    geom=sa.func.ST_GeomFromText(shapely.Point(lon, lat).wkt, 4326), **extra))  # fmt: skip
        key = create_key(conn, "bench editor", Role.editor)
    engine.dispose()
    return key


def _worker(kind: str, n: int, base: str, key: str, tally: Tally, stop: threading.Event) -> None:
    headers = {"X-API-Key": key}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(MAX_REQUESTS_PER_WORKER):
            if stop.is_set():
                return
            started = time.perf_counter()
            external_id = f"w{n}-{i}"
            try:
                if kind == "read":
                    response = client.get(f"/collections/{'villages' if i % 2 else 'facilities'}"
                                          "/items", params={"limit": 50, "offset": (i * 7) % 250})  # fmt: skip
                elif kind == "analysis":
                    response = client.get("/analysis/within", params={
                        "layer": "facilities", "lon": 46.8, "lat": 40.0, "distance_m": 5000})  # fmt: skip
                else:
                    feature = {"type": "Feature",
                               "geometry": {"type": "Point", "coordinates": [46.7, 40.0 + i * 1e-5]},
                               "properties": {"external_id": external_id, "source": "synthetic (bench)",
                                              "facility_type": "school", "name": external_id}}  # fmt: skip
                    response = client.post("/collections/facilities/items", json=feature)
                status = response.status_code
            except httpx.HTTPError:
                status = 0  # no answer at all (connection refused, reset, timeout)
            tally.record(kind, status, time.perf_counter() - started)
            if kind == "write" and status == 201:
                with tally.lock:
                    tally.acknowledged.append(external_id)
            if status in (0, 503):
                time.sleep(0.05)  # a polite client backs off when told to retry


def run(seconds: float = SECONDS) -> dict[str, object]:
    with temp_cluster() as cluster:
        key = _seed(cluster.url)
        tally, stop = Tally(), threading.Event()
        with served(cluster.url, 2, env={"SAFEGROUND_API_KEY_CACHE_SECONDS": "5"}) as base:
            threads = [
                threading.Thread(target=_worker, args=(kind, n * 10 + k, base, key, tally, stop))
                for n, (kind, count) in enumerate(WORKERS.items())
                for k in range(count)
            ]
            started = time.monotonic()
            for t in threads:
                t.start()
            time.sleep(OUTAGE_AT_S)
            cluster.stop()
            outage_started = time.monotonic()
            time.sleep(OUTAGE_S)
            cluster.start()
            restart_s = time.monotonic() - outage_started
            time.sleep(max(0.0, seconds - (time.monotonic() - started)))
            stop.set()
            for t in threads:
                t.join(timeout=60)
        engine = sa.create_engine(cluster.url)
        with engine.connect() as conn:
            stored = set(conn.execute(sa.text(
                "SELECT external_id FROM facilities WHERE deleted_at IS NULL")).scalars())  # fmt: skip
        engine.dispose()
    lost = [e for e in tally.acknowledged if e not in stored]
    result = {
        "seconds": seconds,
        "outage_s": round(restart_s, 1),
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(tally.statuses.items())},
        "latency_ms": {
            kind: {"p50": _pct(values, 50), "p95": _pct(values, 95), "max": _pct(values, 100)}
            for kind, values in tally.latencies.items()
        },
        "acknowledged_writes": len(tally.acknowledged),
        "lost_writes": len(lost),
        "server_errors": sum(n for (_, s), n in tally.statuses.items() if s >= 500 and s != 503),
    }
    print_result(result)
    return result


def _pct(values: list[float], q: int) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, len(ordered) * q // 100)], 1)


def print_result(result: dict[str, object]) -> None:
    table = Table(title=f"mixed load, {result['seconds']:.0f} s, PostgreSQL down "
                        f"{result['outage_s']} s in the middle")  # fmt: skip
    for column in ("class", "status", "requests"):
        table.add_column(column)
    for name, count in result["statuses"].items():  # type: ignore[attr-defined]
        kind, status = name.split()
        table.add_row(kind, status, f"{count:,}")
    console.print(table)
    for kind, figures in result["latency_ms"].items():  # type: ignore[attr-defined]
        console.print(
            f"{kind}: p50 {figures['p50']} ms, p95 {figures['p95']} ms, max {figures['max']} ms"
        )
    console.print(f"writes acknowledged (201): {result['acknowledged_writes']:,}; "
                  f"lost: {result['lost_writes']}; 5xx other than 503: {result['server_errors']}")  # fmt: skip
