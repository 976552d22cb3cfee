"""The one export path: a checked items query and a format in, a stream of bytes out.

API exports (`f=csv|gpkg` pages), whole-layer downloads (`limit=all`, any format) and the CLI's
`safeground export` all call `export()`, so the columns, HXL tags, casts and CRS handling exist
once (the CSV and GeoPackage writers are in gis.outputs.tables). Every format carries exactly the
fields of the query, which are the caller's visible fields: a hidden field cannot reach a file.

GeoJSON is built by PostgreSQL feature by feature and streamed in batches through a server-side
cursor; CSV is PostgreSQL's COPY; GeoPackage and FlatGeobuf (with its spatial index) are written by
GDAL from one Arrow stream of the rows (gis.outputs.arrow_files, which says why PostGIS's
`ST_AsFlatGeobuf` is not used) to a temporary file, then streamed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import orjson
import sqlalchemy as sa

from gis.crs import CRS84
from gis.errors import InvalidParameter
from gis.features import feature_json
from gis.items import (
    BytesLoader,
    compile_statement,
    driver_connection,
    export_select,
    export_values,
    order_by,
    resolve,
)
from gis.outputs.arrow_files import write_file
from gis.outputs.tables import csv_chunks
from gis.query import ItemsQuery, Paging
from gis.spec import LayerSpec

ExportFormat = Literal["geojson", "gpkg", "csv", "fgb"]
FORMATS: tuple[ExportFormat, ...] = ("geojson", "gpkg", "csv", "fgb")
SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv", "fgb": ".fgb"}
MEDIA = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
    "fgb": "application/flatgeobuf",
}
BATCH_ROWS = 2_000
CHUNK_BYTES = 1 << 20


@dataclasses.dataclass
class Export:
    """One export as it streams: iterate `chunks`; `rows` is known once they are all out."""

    chunks: Iterator[bytes]
    media: str
    filename: str
    _tally: list[int] = dataclasses.field(default_factory=list)

    @property
    def rows(self) -> int | None:
        return self._tally[0] if self._tally else None

    def __iter__(self) -> Iterator[bytes]:
        return self.chunks


def export(
    conn: sa.Connection, q: ItemsQuery, fmt: ExportFormat, *, hxl: bool = False, raw: bool = False
) -> Export:
    """The features of `q` (all of them unless it asked for a page) in `fmt`, streamed.

    The chunks read from `conn` as they are consumed: keep it open (and in one transaction, for
    the GeoJSON cursor) until the last chunk is out. A CSV guards text cells a spreadsheet would
    run as formulas unless `raw`.
    """
    if fmt == "fgb" and q.skip_geometry:
        raise InvalidParameter("skipGeometry: a FlatGeobuf file needs its geometries")
    tally: list[int] = []
    name = f"{q.spec.name}{SUFFIX[fmt]}"
    if fmt == "csv":  # hxl only means something in a CSV
        chunks = csv_chunks(conn, q, hxl=hxl, tally=tally, raw=raw)
    elif fmt == "geojson":
        chunks = _geojson(conn, q, tally)
    elif fmt == "fgb":
        chunks = _flatgeobuf(conn, q, tally)
    else:
        chunks = _geopackage(conn, q, tally)
    return Export(chunks, MEDIA[fmt], name, tally)


def whole_layer(spec: LayerSpec, fields: tuple[str, ...]) -> ItemsQuery:
    """Every live feature of a layer with these fields: the CLI's export."""
    return ItemsQuery(spec=spec, fields=fields, page=Paging(1, explicit=False, whole=True))


def export_layer(
    conn: sa.Connection,
    spec: LayerSpec,
    fmt: ExportFormat,
    out: Path,
    fields: tuple[str, ...],
    *,
    hxl: bool = False,
    raw: bool = False,
) -> int:
    """Write the layer's live features (not soft-deleted) with the given fields; returns the count."""
    result = export(conn, whole_layer(spec, fields), fmt, hxl=hxl, raw=raw)
    with out.open("wb") as file:
        for chunk in result:
            file.write(chunk)
    return result.rows or 0


# --- formats -----------------------------------------------------------------------------------


def _geojson(conn: sa.Connection, q: ItemsQuery, tally: list[int]) -> Iterator[bytes]:
    q = resolve(conn, q)
    t = q.spec.table
    columns: list[sa.ColumnElement] = [
        t.c.id, t.c.external_id, *(t.c[f] for f in q.fields), t.c.source, t.c.geom
    ]  # fmt: skip
    if q.sync:
        columns += [t.c.updated_at, t.c.deleted_at]
    whole = not q.page.explicit
    rows = export_select(q, columns, whole=whole).subquery("r")
    descending = q.sort.descending != (q.cursor is not None and q.cursor.backward)
    feature = feature_json(
        q.spec,
        q.fields,
        rows,
        extra=("updated_at",) if q.sync else (),
        crs=q.crs,
        geometry=not q.skip_geometry,
    )
    outer = compile_statement(
        sa.select(sa.cast(feature, sa.Text)).order_by(*order_by(rows, q.sort, descending))
    )
    head = {"type": "FeatureCollection", "timeStamp": _now()}
    if q.crs is not CRS84:
        head["crs"] = q.crs.uri  # informative; the Content-Crs header is the standard's place
    yield orjson.dumps(head)[:-1] + b',"features":['
    count = 0
    pg = driver_connection(conn)
    with pg.cursor(name="safeground_export") as cur:
        cur.adapters.register_loader("text", BytesLoader)
        cur.itersize = BATCH_ROWS
        cur.execute(outer.sql, outer.params(export_values(q, whole=whole)))
        while batch := cur.fetchmany(BATCH_ROWS):
            body = b",".join(row[0] for row in batch)
            yield (b"," + body) if count else body
            count += len(batch)
    tally.append(count)
    yield b'],"numberReturned":' + str(count).encode() + b"}"


def _flatgeobuf(conn: sa.Connection, q: ItemsQuery, tally: list[int]) -> Iterator[bytes]:
    yield from _gdal_file(conn, q, tally, "FlatGeobuf", ".fgb")


def _geopackage(conn: sa.Connection, q: ItemsQuery, tally: list[int]) -> Iterator[bytes]:
    yield from _gdal_file(conn, q, tally, "GPKG", ".gpkg")


def _gdal_file(
    conn: sa.Connection, q: ItemsQuery, tally: list[int], driver: str, suffix: str
) -> Iterator[bytes]:
    with tempfile.TemporaryDirectory(prefix="safeground-export-") as tmp:
        path = Path(tmp) / f"{q.spec.name}{suffix}"
        tally.append(write_file(conn, q, path, driver))
        with path.open("rb") as file:
            while chunk := file.read(CHUNK_BYTES):
                yield chunk


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
