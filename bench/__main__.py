"""`python -m bench` (`make bench`): the OGC API against PostgreSQL producing the same GeoJSON.

It creates a throw-away database on the server of SAFEGROUND_DATABASE_URL, loads the `large` demo,
serves the app as production does (`safeground serve --workers 2`) in a subprocess, and times
each request kind, alternating app and PostgreSQL-alone batches so that drift hits both alike.
It prints the ratios, writes artifacts/bench.json, and drops the database.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import sqlalchemy as sa
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from bench import analysis as analysis_bench
from bench import filters as filters_bench
from bench import imports as imports_bench
from bench import maps as maps_bench
from bench import measure, scenarios
from bench import mixed as mixed_bench
from bench import tiles as tiles_bench
from bench.serving import served
from demo.load import load_demo
from gis import db
from gis.access import create_key
from gis.settings import DEMO_POPULATION_RASTER, AnalysisSettings, DatabaseSettings, ImportSettings
from layers import migrations

console = Console(width=150)
WORKERS = 2


SECTIONS = ("serving", "analysis", "maps", "tiles", "mixed")


@contextlib.contextmanager
def bench_database(server_url: str, keep: bool = False) -> Iterator[sa.URL]:
    server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"safeground_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name)
    finally:
        if keep:
            console.print(f"kept database {name}: rerun with --database {name}")
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            console.print(f"dropped database {name}")
        admin.dispose()


@contextlib.contextmanager
def loaded_database(server_url: str, args: argparse.Namespace) -> Iterator[tuple[sa.URL, str]]:
    """A database with the demo loaded, and an admin key: a new one, or --database's as it is."""
    if args.database:
        server = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
        url = server.set(database=args.database)
        engine = db.make_engine(DatabaseSettings(url=url.render_as_string(hide_password=False)))
        with engine.begin() as conn:
            key = create_key(conn, f"bench-{uuid.uuid4().hex[:6]}", scenarios.ROLE)
        engine.dispose()
        console.print(f"reusing database {args.database} as loaded")
        yield url, key
        return
    with bench_database(server_url, keep=args.keep) as url:
        yield url, prepare(url, args.scale)


def prepare(url: sa.URL, scale: str) -> str:
    """Schema, demo data, statistics; returns an admin key for the requests."""
    engine = db.make_engine(DatabaseSettings(url=url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    migrations.upgrade(engine)
    started = time.perf_counter()
    raster = AnalysisSettings().raster_dir / DEMO_POPULATION_RASTER  # the served app reads it
    load_demo(engine, ImportSettings(), Path("data"), scale, raster_path=raster)
    console.print(f"loaded the {scale} demo in {time.perf_counter() - started:.0f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    with engine.begin() as conn:
        key = create_key(conn, "bench", scenarios.ROLE)
    engine.dispose()
    return key


def alternate(
    rounds: int, app: Callable[[], measure.Samples], alone: Callable[[], measure.Samples]
) -> tuple[measure.Samples, measure.Samples]:
    app_total, alone_total = measure.Samples(), measure.Samples()
    app(), alone()  # warm-up: connections, prepared statements, caches
    for _ in range(rounds):
        app_total.add(app())
        alone_total.add(alone())
    return app_total, alone_total


def run(base: str, key: str, dsn: str, quick: bool, rounds: int) -> list[dict[str, object]]:
    scale = 4 if quick else 1
    headers = {"X-API-Key": key}
    results: list[dict[str, object]] = []
    with measure.app_client(base, headers) as client, psycopg.connect(dsn, autocommit=True) as pg:
        points = scenarios.sample_points(pg, "outreach_sessions", 2000, seed=7)
        ids = scenarios.sample_ids(pg, "hazard_areas", 2000)

        def record(
            name: str, kind: str, target: float, app_s: measure.Samples, alone_s: measure.Samples
        ) -> None:
            results.append(summary(name, kind, target, app_s, alone_s))
            console.print(
                f"  {name}: app p50 {app_s.p50_ms:.2f} ms, PostgreSQL {alone_s.p50_ms:.2f} ms"
            )

        for layer in ("hazard_areas", "outreach_sessions"):
            request = scenarios.page_request(layer, 1000)
            n = max(3, 80 // scale // rounds)
            app_s, alone_s = alternate(rounds, lambda: measure.run_app(client, [request] * n),
                                       lambda: measure.run_alone(pg, [request] * n))  # fmt: skip
            record(f"{layer} page, limit=1000", "latency", 1.5, app_s, alone_s)

        boxes = [
            scenarios.page_request("outreach_sessions", 100, b)
            for b in scenarios.random_bboxes(points, 4000, 11)
        ]
        n = 800 // scale // rounds
        app_s, alone_s = alternate(
            rounds,
            lambda: measure.run_app(client, boxes[:n]),
            lambda: measure.run_alone(pg, boxes[:n]),
        )
        record("random 0.1° bbox, limit=100, 1 client", "latency", 2.5, app_s, alone_s)

        m = 3200 // scale // rounds
        app_s, alone_s = alternate(
            rounds,
            lambda: measure.concurrent_app(base, headers, boxes[:m], 16),
            lambda: measure.concurrent_alone(dsn, boxes[:m], 16),
        )
        record("random 0.1° bbox, limit=100, 16 clients", "throughput", 0.40, app_s, alone_s)

        items = [scenarios.item_request("hazard_areas", i) for i in ids]
        n = 2000 // scale // rounds
        app_s, alone_s = alternate(
            rounds,
            lambda: measure.run_app(client, items[:n]),
            lambda: measure.run_alone(pg, items[:n]),
        )
        record("single hazard area by id", "latency", 5.0, app_s, alone_s)

        walk = scenarios.walk_alone("hazard_areas", 5000)
        first = "/collections/hazard_areas/items?limit=5000"
        walks = max(1, 8 // scale // rounds)
        app_s, alone_s = alternate(
            rounds,
            lambda: measure.timed(lambda: measure.walk_app(client, first), walks),
            lambda: measure.timed(lambda: walk(pg), walks),
        )
        record("all hazard areas, limit=5000 pages", "latency", 1.5, app_s, alone_s)

        filters_bench.run(client, pg, rounds, scale, alternate, record)

        # Context, not a target: the least any request costs through HTTP and Python here.
        floor = scenarios.Request("/conformance", lambda pg: pg.execute("SELECT 1").fetchone())
        n = 2000 // scale // rounds
        app_s, alone_s = alternate(
            rounds,
            lambda: measure.run_app(client, [floor] * n),
            lambda: measure.run_alone(pg, [floor] * n),
        )
        record("floor: /conformance (no SQL) vs SELECT 1", "info", 0.0, app_s, alone_s)
    return results


def summary(
    name: str, kind: str, target: float, app: measure.Samples, alone: measure.Samples
) -> dict[str, object]:
    ratio_p50 = app.p50_ms / alone.p50_ms
    share = app.per_second / alone.per_second if alone.per_second else 0.0
    met = share >= target if kind == "throughput" else ratio_p50 <= target or kind == "info"
    return {
        "name": name, "kind": kind, "target": target, "met": met,
        "app": {"p50_ms": app.p50_ms, "p95_ms": app.p95_ms, "per_second": app.per_second, "n": len(app.latencies_s)},
        "postgres": {"p50_ms": alone.p50_ms, "p95_ms": alone.p95_ms, "per_second": alone.per_second, "n": len(alone.latencies_s)},
        "ratio_p50": ratio_p50, "ratio_p95": app.p95_ms / alone.p95_ms, "throughput_share": share,
    }  # fmt: skip


def print_table(results: list[dict[str, object]]) -> None:
    table = Table(title="SafeGround OGC API vs PostgreSQL alone (same SQL, same rows)")
    for column in ("request", "app p50 ms", "app p95 ms", "app req/s", "PG p50 ms", "PG p95 ms", "PG req/s",
                   "p50 ×", "p95 ×", "throughput", "target", "met"):  # fmt: skip
        table.add_column(column, justify="left" if column == "request" else "right")
    for r in results:
        app, pg = r["app"], r["postgres"]
        assert isinstance(app, dict) and isinstance(pg, dict)
        target = {"throughput": f"≥ {r['target']:.0%} of PG", "info": "(context)"}.get(
            str(r["kind"]), f"p50 ≤ {r['target']}×"
        )
        table.add_row(
            str(r["name"]), f"{app['p50_ms']:.2f}", f"{app['p95_ms']:.2f}", f"{app['per_second']:.0f}",
            f"{pg['p50_ms']:.2f}", f"{pg['p95_ms']:.2f}", f"{pg['per_second']:.0f}",
            f"{r['ratio_p50']:.2f}", f"{r['ratio_p95']:.2f}", f"{r['throughput_share']:.0%}", target,
            "" if r["kind"] == "info" else "[green]yes[/]" if r["met"] else "[red]no[/]",
        )  # fmt: skip
    console.print(table)


def print_rows(title: str, rows: list[dict[str, object]]) -> None:
    """The analysis and map figures: absolute times against their targets (no PostgreSQL twin)."""
    if not rows:
        return
    table = Table(title=title)
    columns = list(dict.fromkeys(c for r in rows for c in r if not isinstance(r[c], dict)))
    for column in columns:
        table.add_column(column, justify="left" if column == "name" else "right")
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", default="large", choices=("national", "large"))
    parser.add_argument(
        "--rounds", type=int, default=4, help="alternations of app and PostgreSQL batches"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a quarter of the samples (a smoke run)"
    )
    parser.add_argument(
        "--imports",
        action="store_true",
        help="only the import bench: 100,000 CSV points and 20,000 GeoPackage polygons vs ogr2ogr",
    )
    parser.add_argument("--out", type=Path, default=Path("artifacts/bench.json"))
    parser.add_argument(
        "--mixed-only",
        action="store_true",
        help="only the 60 s mixed load with a PostgreSQL restart (its own throw-away cluster)",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, of {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the loaded database and print its name"
    )
    parser.add_argument(
        "--database", help="reuse a database kept by --keep instead of loading a new one"
    )
    args = parser.parse_args(argv)
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    if unknown := only - set(SECTIONS):
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}")
    if args.mixed_only:
        mixed_result = mixed_bench.run()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        out = args.out.with_name("bench-mixed.json")
        out.write_text(json.dumps(mixed_result, indent=2))
        console.print(f"wrote {out}")
        return 0 if not mixed_result["lost_writes"] and not mixed_result["server_errors"] else 1
    server = os.environ.get("SAFEGROUND_DATABASE_URL")
    if not server:
        console.print(
            "[red]set SAFEGROUND_DATABASE_URL[/] (a database on the PostGIS server to use)"
        )
        return 2
    started = time.perf_counter()
    if args.imports:
        return imports_only(server, args, started)
    results: list[dict[str, object]] = []
    others: dict[str, object] = {}
    with loaded_database(server, args) as (url, key):
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with served(url, WORKERS) as base:
            console.print(f"serving on {base} with {WORKERS} workers; measuring…")
            if "serving" in only:
                results = run(base, key, dsn, args.quick, max(1, args.rounds))
            engine_url = url.render_as_string(hide_password=False)
            if "analysis" in only:
                others["analysis"] = analysis_bench.run(engine_url, base, {"X-API-Key": key})
            if "maps" in only:
                others["maps"] = maps_bench.run(engine_url, base, {"X-API-Key": key})
            if "tiles" in only:
                others["tiles"] = tiles_bench.run(engine_url, dsn, base, key, scenarios.ROLE)
    if "mixed" in only:  # its own cluster: the restart never touches this server
        others["mixed"] = mixed_bench.run()
    if results:
        print_table(results)
    for title, rows in others.items():
        if title != "mixed":
            print_rows(f"{title} ({args.scale} scale)", rows)  # type: ignore[arg-type]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "scale": args.scale, "workers": WORKERS, "rounds": args.rounds, "quick": args.quick,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "seconds": round(time.perf_counter() - started, 1), "results": results, **others,
    }  # fmt: skip
    args.out.write_text(json.dumps(document, indent=2))
    console.print(f"wrote {args.out} ({document['seconds']} s in all)")
    return 0


def imports_only(server: str, args: argparse.Namespace, started: float) -> int:
    with bench_database(server) as url:
        rows = imports_bench.run(url, rounds=max(1, min(args.rounds, 3)))
    print_rows("imports vs ogr2ogr -f PostgreSQL (same file, same server)", rows)
    out = args.out.with_name("bench-imports.json") if args.out.name == "bench.json" else args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "seconds": round(time.perf_counter() - started, 1), "imports": rows,
    }  # fmt: skip
    out.write_text(json.dumps(document, indent=2))
    console.print(f"wrote {out} ({document['seconds']} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
