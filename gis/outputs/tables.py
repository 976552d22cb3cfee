"""CSV built by PostgreSQL (COPY … TO STDOUT) and GeoPackage files, for the filtered items.

Both carry the same columns as the CLI export (external_id, longitude/latitude or wkt, the
visible properties, source), so what a partner downloads re-imports unchanged. Hidden fields are
never selected, so they cannot leak into a file.
"""

from __future__ import annotations

import io
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
import sqlalchemy as sa

from gis.features import GEOJSON_DIGITS
from gis.items import compile_statement, driver_connection, export_select, export_values
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


def csv_columns(q: ItemsQuery) -> list[sa.ColumnElement]:
    t, spec = q.spec.table, q.spec
    columns: list[sa.ColumnElement] = [t.c.external_id]
    if spec.geometry_type == "Point":
        columns += [
            sa.func.ST_X(t.c.geom).label("longitude"),  # stored at 7 decimals; float text is exact
            sa.func.ST_Y(t.c.geom).label("latitude"),
        ]
    columns += [t.c[f] for f in q.fields] + [t.c.source]
    if q.sync:
        columns += [t.c.updated_at, t.c.deleted_at]
    if spec.geometry_type != "Point":
        columns.append(sa.func.ST_AsText(t.c.geom, GEOJSON_DIGITS).label("wkt"))
    return columns


def write_csv(
    conn: sa.Connection, q: ItemsQuery, *, hxl: bool, raw: bool = False
) -> tuple[bytes, int]:
    """The CSV (header, optional HXL hashtag row, rows from COPY) and its row count.

    Text cells that a spreadsheet would run as a formula are guarded unless `raw` (machines).
    """
    columns = csv_columns(q)
    names = [c.name for c in columns]
    if not raw:
        columns = [_guarded(c) for c in columns]
    statement = compile_statement(export_select(q, columns, whole=_whole(q)))
    out = io.BytesIO()
    out.write((",".join(names) + "\n").encode())
    if hxl:
        tags = {**GEO_TAGS, **q.spec.hxl}
        out.write((",".join(tags.get(n, "") for n in names) + "\n").encode())
    with driver_connection(conn).cursor() as cur:
        # COPY takes no server-side parameters; psycopg binds these client-side, quoting each value.
        params = statement.params(export_values(q, whole=_whole(q)))
        with cur.copy(f"COPY ({statement.sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
            for data in copy:
                out.write(data)
        rows = cur.rowcount
    return out.getvalue(), max(rows, 0)


def write_geopackage(conn: sa.Connection, q: ItemsQuery, path: Path) -> int:
    """A GeoPackage with one layer named after the collection; returns the feature count."""
    t = q.spec.table
    columns: list[sa.ColumnElement] = [t.c.external_id, *(t.c[f] for f in q.fields), t.c.source]
    if q.sync:
        columns += [t.c.updated_at, t.c.deleted_at]
    columns.append(sa.func.ST_AsBinary(t.c.geom).label("wkb"))
    stmt = export_select(q, columns, whole=_whole(q)).params(export_values(q, whole=_whole(q)))
    result = conn.execute(stmt)
    table = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for name in q.fields:
        if isinstance(t.c[name].type, sa.Integer):
            table[name] = table[name].astype("Int64")
    geometry = shapely.from_wkb(table.pop("wkb").map(bytes, na_action="ignore").to_numpy())
    frame = gpd.GeoDataFrame(table, geometry=geometry, crs="EPSG:4326")
    path.unlink(missing_ok=True)
    pyogrio.write_dataframe(
        frame, path, driver="GPKG", layer=q.spec.name, geometry_type=q.spec.geometry_type
    )
    return len(frame)
