"""Importing files and features into a layer: read, validate every row, then write all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import sqlalchemy as sa

from gis.analysis import pairs
from gis.errors import InvalidInput, RowError
from gis.ingest.mapping import ColumnMapping, load_mapping, ready_mappings
from gis.ingest.options import ReadOptions
from gis.ingest.read import read_file
from gis.ingest.validate import no_gc, validate_frame
from gis.ingest.write import finish_batch, start_batch, upsert
from gis.outputs.tables import unguard_frame
from gis.settings import ImportSettings
from gis.spec import LayerSpec

__all__ = [
    "ColumnMapping",
    "ImportReport",
    "ReadOptions",
    "import_file",
    "import_frame",
    "load_mapping",
    "read_file",
    "ready_mappings",
]


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
    # which column fed each field (external_id and source included)
    columns: dict[str, str] = field(default_factory=dict)
    # how the file was read: format, encoding, delimiter, decimal mark, sheet, HXL, geometry
    # columns, the CRS reprojected from, sheets not imported
    detected: dict[str, object] = field(default_factory=dict)

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
    mapping: ColumnMapping | None = None,
    dayfirst: bool | None = None,
) -> ImportReport:
    """Validate every row, then upsert them in a savepoint; a dry run rolls the savepoint back.

    Raises InvalidInput listing every rejected row; then nothing is written. A row naming a
    deleted feature is refused unless `restore_deleted`. Rows without a source get
    `default_source`, else the mapping's source, else the file name.
    """
    refuse_nested(frame)
    if filename and filename.lower().endswith(".csv"):
        frame = unguard_frame(frame)  # a CSV exported by SafeGround round-trips unchanged
    fallback = (mapping.source if mapping else None) or filename
    if mapping is not None and dayfirst is None:
        given = mapping.read.get("dayfirst")
        dayfirst = given if isinstance(given, bool) else None
    valid = validate_frame(
        frame, spec, limits, id_field=id_field, default_source=default_source or fallback,
        make_valid=make_valid, mapping=mapping, dayfirst=dayfirst,
    )  # fmt: skip
    if progress:
        progress(len(frame))
    savepoint = conn.begin_nested()
    try:
        batch_id = start_batch(conn, spec.name, filename, actor)
        with no_gc():  # the COPY loop over every row, as in validation
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
        # The measured pairs of the analyses follow the write in its own transaction.
        pairs.after_write(conn, spec)
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
        columns=valid.columns,
        detected=_detected(frame),
    )


def refuse_nested(frame: gpd.GeoDataFrame) -> None:
    """An object or list where a single value belongs is refused, not stored as its repr."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    errors = [
        RowError(row, str(name), "must be a single value, not an object or a list")
        for name in frame.columns
        if name != geometry and frame[name].dtype == object
        for row, value in enumerate(frame[name], start=1)
        if isinstance(value, dict | list | tuple)
    ]
    if errors:
        raise InvalidInput(errors[:1000])


def _detected(frame: gpd.GeoDataFrame) -> dict[str, object]:
    detected = dict(frame.attrs.get("detected", {}))
    if frame.attrs.get("crs_from"):
        detected["crs_reprojected_from"] = frame.attrs["crs_from"]
    return detected


def import_file(
    conn: sa.Connection,
    spec: LayerSpec,
    path: Path,
    limits: ImportSettings,
    *,
    crs: str | None = None,
    source_layer: str | None = None,
    read: ReadOptions | None = None,
    **options: object,
) -> ImportReport:
    """Read a file (with the given reading options and mapping) and import it."""
    read = read or ReadOptions()
    frame = read_file(path, limits, crs=crs, source_layer=source_layer, options=read)
    return import_frame(
        conn, spec, frame, limits, filename=path.name, mapping=read.mapping,
        dayfirst=read.dayfirst, **options,  # type: ignore[arg-type]
    )  # fmt: skip
