"""`safeground demo load`: the real reference layers, the documented events, the synthetic records.

Everything goes through the same validated import as a data manager's files, so the demo proves
the import path; loading twice changes nothing, and switching scale retires the synthetic records
the new scale does not have (soft-deleted, so partners syncing learn of it).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import sqlalchemy as sa
from rich.console import Console
from sqlalchemy.dialects.postgresql import ARRAY

from demo.documented import documented_events
from demo.raster import build_population_raster
from demo.records import DemoWorld, generators
from demo.reference import read_districts, read_villages
from demo.synthetic import SOURCE, generate
from gis.analysis import pairs
from gis.errors import InvalidParameter
from gis.ingest import ImportReport, import_frame
from gis.roles import LayerRoles
from gis.settings import AnalysisSettings, ImportSettings
from layers import REGISTRY

SCALES = ("national", "large")


def load_demo(
    engine: sa.Engine,
    limits: ImportSettings,
    data_dir: Path,
    scale: str = "national",
    console: Console | None = None,
    raster_path: Path | None = None,
) -> list[ImportReport]:
    """Load the demo; with `raster_path`, also write the modelled population raster there."""
    if scale not in SCALES:
        raise InvalidParameter(f"unknown scale '{scale}': use {' or '.join(SCALES)}")
    say = console.print if console else (lambda *a, **k: None)
    azerbaijan = data_dir / "azerbaijan"
    say(f"reading reference data from {azerbaijan}")
    districts = read_districts(azerbaijan / "aze_adm1_districts.geojson")
    villages = read_villages(azerbaijan / "aze_places.geojson")
    documented = documented_events(data_dir / "documented_events.csv", villages, districts)
    say(f"generating synthetic records ({scale} scale)")
    synthetic = generate(villages, districts, scale=scale)
    frames: dict[str, gpd.GeoDataFrame] = {"districts": districts, "villages": villages}
    for layer in REGISTRY:  # the documented events beside the synthetic records of each layer
        parts = [f for f in (documented.get(layer), synthetic.get(layer)) if f is not None]
        if parts:
            frames[layer] = _concat(parts)
    for layer, own in generators().items():  # layers that bring their own demo records
        world = DemoWorld(villages, districts, scale, dict(frames))
        frames[layer] = _concat([f for f in (frames.get(layer), own(world)) if f is not None])
    reports = []
    with engine.begin() as conn:
        for layer, frame in frames.items():
            say(f"importing {len(frame):,} {layer}")
            spec = REGISTRY[layer]
            reports.append(
                import_frame(conn, spec, frame, limits, filename=f"demo:{scale}", actor="demo")
            )
            _retire_old_synthetic(conn, spec.table, frame)
            pairs.after_write(conn, spec)  # the retired rows' pairs too (import_frame did its own)
        # The analyses' pairs of the configured hazards and places, declared and measured in the
        # load's transaction: from now on every write keeps them, and no read has to.
        roles = LayerRoles.from_settings(REGISTRY, AnalysisSettings())
        pairs.declare(conn, roles.hazards, roles.places)
    if raster_path is not None:
        say(f"building the MODELLED population raster {raster_path}")
        build_population_raster(districts, villages, raster_path)
    return reports


def _concat(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")


def _retire_old_synthetic(conn: sa.Connection, table: sa.Table, frame: gpd.GeoDataFrame) -> None:
    current = sa.bindparam(
        "current",
        frame.loc[frame["source"] == SOURCE, "external_id"].tolist(),
        type_=ARRAY(sa.Text),
    )
    conn.execute(
        sa.update(table)
        .where(
            table.c.source == SOURCE,
            table.c.deleted_at.is_(None),
            table.c.external_id != sa.all_(current),
        )
        .values(deleted_at=sa.func.now(), updated_at=sa.func.now())
    )
