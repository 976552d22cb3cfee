"""GeoPackage and FlatGeobuf files, written by GDAL from one Arrow stream of the filtered rows.

One query (a server-side binary cursor) is read in batches straight into Arrow arrays typed from
the table's own column types, and GDAL writes them (`pyogrio.write_arrow`): no per-feature Python,
no DataFrame in between, an all-NULL column keeps its type, and NULL stays NULL in every position.

PostGIS's own `ST_AsFlatGeobuf` is not used, in any release: its `encode_properties`
(postgis/flatgeobuf.c, unchanged from 3.2 to today's master) skips a NULL value *before* it
advances the column counter, so every later property of that feature is written under the wrong
column (GDAL then refuses the feature: "Fatal error parsing feature"); a feature whose properties
are all NULL repeats the previous feature's (the property length is kept from the last row); and
DATE columns are declared in the header but their values are never written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyogrio
import sqlalchemy as sa

from gis.items import compile_statement, driver_connection, export_select, export_values, resolve
from gis.outputs.tables import file_geometry
from gis.query import ItemsQuery

BATCH_ROWS = 20_000
GEOMETRY = "geometry"
# GDAL (pyogrio) takes the column carrying this extension name as the layer's geometry.
_WKB = pa.field(GEOMETRY, pa.binary(), metadata={"ARROW:extension:name": "geoarrow.wkb"})


def arrow_type(column: sa.ColumnElement) -> pa.DataType:
    """The Arrow type of a layer column, so that GDAL declares the file's field as the database
    does (a date stays a date, an integer an integer), whatever the values."""
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return pa.bool_()
    if isinstance(kind, sa.SmallInteger):
        return pa.int16()
    if isinstance(kind, sa.BigInteger):
        return pa.int64()
    if isinstance(kind, sa.Integer):
        return pa.int32()
    if isinstance(kind, sa.Float):
        return pa.float64()
    if isinstance(kind, sa.DateTime):
        return pa.timestamp("us", tz="UTC") if kind.timezone else pa.timestamp("us")
    if isinstance(kind, sa.Date):
        return pa.date32()
    if isinstance(kind, sa.String | sa.Enum):
        return pa.string()
    raise TypeError(f"column {column.name}: no file type for {kind!r}")  # a new kind of column


def _columns(q: ItemsQuery) -> list[sa.ColumnElement]:
    t = q.spec.table
    columns: list[sa.ColumnElement] = [t.c.external_id, *(t.c[f] for f in q.fields), t.c.source]
    if q.sync:
        columns += [t.c.updated_at, t.c.deleted_at]
    return columns


def _batches(
    conn: sa.Connection, q: ItemsQuery, schema: pa.Schema, tally: list[int]
) -> Iterator[pa.RecordBatch]:
    columns = _columns(q)
    if not q.skip_geometry:
        columns.append(sa.func.ST_AsBinary(file_geometry(q)).label(GEOMETRY))
    whole = not q.page.explicit
    statement = compile_statement(export_select(q, columns, whole=whole))
    count = 0
    # Binary: integers, dates and WKB arrive as values, not text to parse again.
    with driver_connection(conn).cursor(name="safeground_file", binary=True) as cur:
        cur.itersize = BATCH_ROWS
        cur.execute(statement.sql, statement.params(export_values(q, whole=whole)))
        while rows := cur.fetchmany(BATCH_ROWS):
            arrays = [pa.array(values, field.type) for values, field in zip(zip(*rows), schema)]
            count += len(rows)
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)
    tally.append(count)


def write_file(conn: sa.Connection, q: ItemsQuery, path: Path, driver: str) -> int:
    """A GDAL file (GPKG, FlatGeobuf) with one layer named after the collection; returns the
    feature count."""
    q = resolve(conn, q)
    fields = [pa.field(c.name, arrow_type(c)) for c in _columns(q)]
    schema = pa.schema(fields if q.skip_geometry else [*fields, _WKB])
    tally: list[int] = []
    stream = pa.RecordBatchReader.from_batches(schema, _batches(conn, q, schema, tally))
    path.unlink(missing_ok=True)
    if q.skip_geometry:  # an attribute table, as skipGeometry asks
        pyogrio.write_arrow(stream, path, driver=driver, layer=q.spec.name)
    else:
        pyogrio.write_arrow(
            stream,
            path,
            driver=driver,
            layer=q.spec.name,
            geometry_name=GEOMETRY,
            geometry_type=q.spec.geometry_type,
            crs=f"EPSG:{q.crs.srid}",
        )
    return tally[0]
