"""CSV built by PostgreSQL (COPY … TO STDOUT), for the filtered items, and the files' geometry.

Its columns (external_id, longitude/latitude or wkt, the visible properties, source) are those of
the GDAL files (gis.outputs.arrow_files) with the geometry as columns, so what a partner downloads
re-imports unchanged. Hidden fields are never selected, so they cannot leak into a file.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import sqlalchemy as sa

from gis.items import compile_statement, driver_connection, export_select, export_values, resolve
from gis.outputs.formula_guard import FORMULA_STARTS, GUARD, unguard_cell
from gis.query import ItemsQuery

GEO_TAGS = {"longitude": "#geo+lon", "latitude": "#geo+lat", "wkt": "#geo+wkt"}

_STARTS_SQL = "ARRAY[" + ", ".join(f"chr({ord(c)})" for c in FORMULA_STARTS) + "]"


def unguard_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of a CSV read for import, with the export's formula guard taken off."""
    out = frame.copy()
    geometry = getattr(frame, "_geometry_column_name", None)
    for name in out.columns:
        column = out[name]
        if name != geometry and (
            pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)
        ):
            out[name] = out[name].map(lambda v: unguard_cell(v) if isinstance(v, str) else v)
    return out


def _guarded(column: sa.ColumnElement) -> sa.ColumnElement:
    """In SQL: the text column with guard_cell applied (the same rule, run by COPY's query)."""
    if not isinstance(column.type, sa.String):
        return column
    starts = sa.func.left(column, 1) == sa.any_(sa.literal_column(_STARTS_SQL))
    guarded = sa.func.concat(sa.func.chr(ord(GUARD)), column)
    return sa.case((starts, guarded), else_=column).label(column.name)


def _whole(q: ItemsQuery) -> bool:
    """Exports are every filtered feature unless the caller asked for a page."""
    return not q.page.explicit


def file_geometry(q: ItemsQuery) -> sa.ColumnElement:
    """The geometry in the export's CRS. Files keep longitude (or easting) first even for
    EPSG:4326, as GDAL writes and reads them; only GeoJSON answers follow the CRS's axis order."""
    geom = q.spec.table.c.geom
    if q.crs.srid == 4326:
        return geom
    return sa.func.ST_Transform(geom, sa.literal_column(str(q.crs.srid)))


def csv_columns(q: ItemsQuery) -> list[sa.ColumnElement]:
    t, spec = q.spec.table, q.spec
    geom = file_geometry(q)
    columns: list[sa.ColumnElement] = [t.c.external_id]
    if spec.geometry_type == "Point" and not q.skip_geometry:
        x, y = ("longitude", "latitude") if q.crs.geographic else ("x", "y")
        columns += [
            sa.func.ST_X(geom).label(x),  # stored at 7 decimals; float text is exact
            sa.func.ST_Y(geom).label(y),
        ]
    columns += [t.c[f] for f in q.fields] + [t.c.source]
    if q.sync:
        columns += [t.c.updated_at, t.c.deleted_at]
    if spec.geometry_type != "Point" and not q.skip_geometry:
        columns.append(sa.func.ST_AsText(geom, q.crs.digits).label("wkt"))
    return columns


def csv_chunks(
    conn: sa.Connection, q: ItemsQuery, *, hxl: bool, tally: list[int], raw: bool = False
) -> Iterator[bytes]:
    """The CSV as it is produced (header, optional HXL hashtag row, rows from COPY); the row
    count is appended to `tally` once the last chunk is out.

    Text cells that a spreadsheet would run as a formula are guarded unless `raw` (machines).
    """
    q = resolve(conn, q)
    columns = csv_columns(q)
    names = [c.name for c in columns]
    if not raw:
        columns = [_guarded(c) for c in columns]
    statement = compile_statement(export_select(q, columns, whole=_whole(q)))
    yield (",".join(names) + "\n").encode()
    if hxl:
        tags = {**GEO_TAGS, **q.spec.hxl}
        yield (",".join(tags.get(n, "") for n in names) + "\n").encode()
    with driver_connection(conn).cursor() as cur:
        # COPY takes no server-side parameters; psycopg binds these client-side, quoting each value.
        params = statement.params(export_values(q, whole=_whole(q)))
        with cur.copy(f"COPY ({statement.sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:
                yield bytes(data)
        tally.append(max(cur.rowcount, 0))


def write_csv(
    conn: sa.Connection, q: ItemsQuery, *, hxl: bool, raw: bool = False
) -> tuple[bytes, int]:
    """The CSV (header, optional HXL hashtag row, rows from COPY) and its row count."""
    tally: list[int] = []
    body = b"".join(csv_chunks(conn, q, hxl=hxl, tally=tally, raw=raw))
    return body, tally[0]
