"""`make bench BENCH_ARGS=--imports`: SafeGround's import (read, full validation, COPY, upsert)
against `ogr2ogr -f PostgreSQL` loading the same file into a fresh table on the same server.

Two files: 100,000 risk-education sessions as CSV (longitude/latitude columns) and 20,000
hazard polygons as a GeoPackage, both synthetic. Rounds alternate SafeGround and ogr2ogr so that
the load of a shared machine hits both alike; the medians are compared.
"""

from __future__ import annotations

import random
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa

from gis import db
from gis.ingest import import_file
from gis.settings import DatabaseSettings, ImportSettings
from layers import REGISTRY, migrations

TARGET_RATIO = 1.5
AOI = (45.0, 38.6, 50.3, 41.8)


def sessions_csv(path: Path, n: int, seed: int = 3) -> Path:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        girls, boys, women, men = (rng.randint(0, 30) for _ in range(4))
        rows.append({
            "external_id": f"bench-s{i}", "longitude": round(rng.uniform(AOI[0], AOI[2]), 7),
            "latitude": round(rng.uniform(AOI[1], AOI[3]), 7),
            "held_on": f"20{rng.randint(21, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "audience": rng.choice(["children", "adults", "mixed"]),
            "modality": rng.choice(["school", "community", "door_to_door"]),
            "girls": girls, "boys": boys, "women": women, "men": men,
            "participants_total": girls + boys + women + men,
            "organisation": "synthetic bench", "place_name": f"place {i % 5000}",
            "source": "synthetic: bench",
        })  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def hazards_gpkg(path: Path, n: int, seed: int = 5) -> Path:
    rng = random.Random(seed)
    geoms, props = [], []
    for i in range(n):
        x, y = rng.uniform(AOI[0], AOI[2] - 0.01), rng.uniform(AOI[1], AOI[3] - 0.01)
        size = rng.uniform(0.0005, 0.005)
        ring = [(x, y), (x + size, y), (x + size, y + size * 0.8), (x + size / 2, y + size),
                (x, y + size * 0.7), (x, y)]  # fmt: skip
        geoms.append(shapely.MultiPolygon([shapely.Polygon(ring)]))
        props.append({
            "external_id": f"bench-h{i}", "name": f"hazard {i}",
            "hazard_type": rng.choice(["AP_mine", "AT_mine", "UXO_ERW", "mixed"]),
            "status": rng.choice(["suspected", "confirmed", "cleared"]),
            "recorded_on": pd.Timestamp(2020, rng.randint(1, 12), rng.randint(1, 28)).date(),
            "source": "synthetic: bench",
        })  # fmt: skip
    frame = gpd.GeoDataFrame(props, geometry=geoms, crs="EPSG:4326")
    frame.to_file(path, driver="GPKG", layer="hazards")
    return path


def _ogr2ogr(url: sa.URL, path: Path, table: str) -> float:
    pg = (f"PG:host={url.host} port={url.port} dbname={url.database} user={url.username}"
          + (f" password={url.password}" if url.password else ""))  # fmt: skip
    # ogr2ogr keeps its default GiST index on the geometry, as our tables have theirs.
    args = ["ogr2ogr", "-f", "PostgreSQL", pg, str(path), "-nln", table, "-overwrite",
            "-lco", "GEOMETRY_NAME=geom"]  # fmt: skip
    if path.suffix == ".csv":
        args += ["-oo", "X_POSSIBLE_NAMES=longitude", "-oo", "Y_POSSIBLE_NAMES=latitude",
                 "-oo", "KEEP_GEOM_COLUMNS=NO", "-a_srs", "EPSG:4326"]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, timeout=1800)
    return time.perf_counter() - started


def _safeground(engine: sa.Engine, layer: str, path: Path) -> float:
    spec = REGISTRY[layer]
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {spec.table.name} CASCADE")
    started = time.perf_counter()
    with engine.begin() as conn:
        report = import_file(conn, spec, path, ImportSettings())
    elapsed = time.perf_counter() - started
    assert report.inserted == report.rows, report
    return elapsed


def run(
    url: sa.URL, rounds: int = 3, points: int = 100_000, polygons: int = 20_000
) -> list[dict[str, object]]:
    if shutil.which("ogr2ogr") is None:
        raise RuntimeError("ogr2ogr is not installed (apt-get install gdal-bin)")
    engine = db.make_engine(DatabaseSettings(url=url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
    migrations.upgrade(engine)
    results = []
    with tempfile.TemporaryDirectory(prefix="safeground-bench-") as folder:
        files = [
            (f"{points:,} session points, CSV", "outreach_sessions",
             sessions_csv(Path(folder) / "sessions.csv", points)),
            (f"{polygons:,} hazard polygons, GeoPackage", "hazard_areas",
             hazards_gpkg(Path(folder) / "hazards.gpkg", polygons)),
        ]  # fmt: skip
        for name, layer, path in files:
            ours, theirs = [], []
            for _ in range(rounds):
                ours.append(_safeground(engine, layer, path))
                theirs.append(_ogr2ogr(url, path, f"bench_ogr_{layer}"))
            ratio = statistics.median(ours) / statistics.median(theirs)
            results.append({
                "name": f"import {name}", "safeground_s": round(statistics.median(ours), 2),
                "ogr2ogr_s": round(statistics.median(theirs), 2), "ratio": round(ratio, 2),
                "target": f"≤ {TARGET_RATIO}×", "met": ratio <= TARGET_RATIO, "rounds": rounds,
            })  # fmt: skip
    engine.dispose()
    return results
