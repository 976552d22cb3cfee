"""Timing requests against the app (httpx) and PostgreSQL alone (psycopg), alone or concurrently."""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import psycopg

from bench.scenarios import Request

NEXT_LINK = re.compile(rb'"href":"([^"]+)","rel":"next"')


@dataclass
class Samples:
    """Latencies of individual operations and the wall time they took together."""

    latencies_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    def add(self, other: Samples) -> None:
        self.latencies_s += other.latencies_s
        self.wall_s += other.wall_s

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies_s) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies_s) / self.wall_s if self.wall_s else 0.0


def app_client(base_url: str, headers: dict[str, str]) -> httpx.Client:
    # identity: the comparison is with PostgreSQL's uncompressed JSON (gzip is the client's choice)
    return httpx.Client(
        base_url=base_url, headers={**headers, "Accept-Encoding": "identity"}, timeout=120
    )


def _fetch(client: httpx.Client, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}: {response.text[:300]}")
    return response.content


def run_app(client: httpx.Client, requests: Sequence[Request]) -> Samples:
    samples = Samples()
    start = time.perf_counter()
    for request in requests:
        t = time.perf_counter()
        _fetch(client, request.path)
        samples.latencies_s.append(time.perf_counter() - t)
    samples.wall_s = time.perf_counter() - start
    return samples


def run_alone(pg: psycopg.Connection, requests: Sequence[Request]) -> Samples:
    samples = Samples()
    start = time.perf_counter()
    for request in requests:
        t = time.perf_counter()
        request.run_alone(pg)
        samples.latencies_s.append(time.perf_counter() - t)
    samples.wall_s = time.perf_counter() - start
    return samples


def _concurrently(
    clients: int, jobs: Sequence[Request], worker: Callable[[list[Request]], list[float]]
) -> Samples:
    shares = [list(jobs[i::clients]) for i in range(clients)]
    barrier = threading.Barrier(clients + 1)

    def run(share: list[Request]) -> list[float]:
        barrier.wait()
        return worker(share)

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(run, share) for share in shares]
        barrier.wait()
        start = time.perf_counter()
        results = [f.result() for f in futures]
        wall = time.perf_counter() - start
    return Samples([t for r in results for t in r], wall)


def concurrent_app(
    base_url: str, headers: dict[str, str], requests: Sequence[Request], clients: int
) -> Samples:
    def worker(share: list[Request]) -> list[float]:
        with app_client(base_url, headers) as client:
            _fetch(client, share[0].path)  # open the connection before the clock runs
            return run_app(client, share).latencies_s

    return _concurrently(clients, requests, worker)


def concurrent_alone(dsn: str, requests: Sequence[Request], clients: int) -> Samples:
    def worker(share: list[Request]) -> list[float]:
        with psycopg.connect(dsn, autocommit=True) as pg:
            share[0].run_alone(pg)
            return run_alone(pg, share).latencies_s

    return _concurrently(clients, requests, worker)


def walk_app(client: httpx.Client, first: str) -> tuple[float, int]:
    """Follow next links from `first` to the end; (seconds, pages). Only the envelope's head is
    searched for the link: parsing megabytes of features would time the client, not the server."""
    t, pages, url = time.perf_counter(), 0, first
    while url:
        body = _fetch(client, url)
        pages += 1
        found = NEXT_LINK.search(body, 0, 8192)
        url = found.group(1).decode() if found else ""
    return time.perf_counter() - t, pages


def timed(fn: Callable[[], object], repeat: int) -> Samples:
    samples = Samples()
    start = time.perf_counter()
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.latencies_s.append(time.perf_counter() - t)
    samples.wall_s = time.perf_counter() - start
    return samples
