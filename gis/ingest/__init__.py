"""Importing files and features into a layer: read, validate every row, then write all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa

from gis.ingest.read import read_file
from gis.ingest.validate import validate_frame
from gis.ingest.write import finish_batch, start_batch, upsert
from gis.outputs.tables import unguard_frame
from gis.settings import ImportSettings
from gis.spec import LayerSpec

__all__ = ["ImportReport", "import_file", "import_frame", "read_file"]


@dataclass
class ImportReport:
    layer: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    dry_run: bool
    batch_id: int | None = None
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def import_frame(
    conn: sa.Connection,
    spec: LayerSpec,
    frame: gpd.GeoDataFrame,
    limits: ImportSettings,
    *,
    filename: str | None = None,
    actor: str | None = None,
    id_field: str = "external_id",
    default_source: str | None = None,
    make_valid: bool = False,
    dry_run: bool = False,
    restore_deleted: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate every row, then upsert them in a savepoint; a dry run rolls the savepoint back.

    Raises InvalidInput listing every rejected row; then nothing is written. A row naming a
    deleted feature is refused unless `restore_deleted`.
    """
    if filename and filename.lower().endswith(".csv"):
        frame = unguard_frame(frame)  # a CSV exported by SafeGround round-trips unchanged
    valid = validate_frame(
        frame, spec, limits, id_field=id_field, default_source=default_source, make_valid=make_valid
    )
    if progress:
        progress(len(frame))
    savepoint = conn.begin_nested()
    try:
        batch_id = start_batch(conn, spec.name, filename, actor)
        inserted, updated = upsert(
            conn, spec, valid.records, valid.geometries, batch_id, progress,
            lock_wait_s=limits.lock_wait_s, restore_deleted=restore_deleted,
        )  # fmt: skip
        finish_batch(conn, batch_id, len(valid.records), inserted, updated)
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    rows = len(valid.records)
    return ImportReport(
        layer=spec.name,
        rows=rows,
        inserted=inserted,
        updated=updated,
        unchanged=rows - inserted - updated,
        dry_run=dry_run,
        batch_id=None if dry_run else batch_id,
        ignored_columns=valid.ignored_columns,
        warnings=valid.warnings,
    )


def import_file(
    conn: sa.Connection,
    spec: LayerSpec,
    path: Path,
    limits: ImportSettings,
    *,
    crs: str | None = None,
    source_layer: str | None = None,
    **options: object,
) -> ImportReport:
    frame = read_file(path, limits, crs=crs, source_layer=source_layer)
    options.setdefault("default_source", path.name)
    return import_frame(conn, spec, frame, limits, filename=path.name, **options)  # type: ignore[arg-type]
