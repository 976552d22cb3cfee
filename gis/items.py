"""The items of a layer as one SQL statement: PostgreSQL builds the page's GeoJSON, Python passes it on.

One statement per page answers everything the envelope needs — the features as JSON text, how
many rows came back (limit + 1 tells whether there is a next page, with no COUNT(*)), the sort
keys of the edge rows for keyset cursors, and the database's clock for incremental sync. The SQL
text depends only on the query's *shape* (layer, fields, which filters, sort, direction), never
on its values, so it is compiled once per shape and then run with bound parameters; psycopg
prepares it on the server after a few runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from psycopg.adapt import Buffer, Loader
from sqlalchemy.dialects import postgresql

from gis.areas import find_area
from gis.crs import CRS84, Crs
from gis.features import feature_json, sql_key
from gis.query import ItemsQuery, Sort
from gis.spec import LayerSpec

_DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]


class BytesLoader(Loader):
    """Text columns as raw bytes: the page's JSON goes to the client as it came, never decoded."""

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


@dataclass(frozen=True)
class Statement:
    """SQL text with %(name)s placeholders, and the values of the constants compiled into it."""

    sql: str
    constants: dict[str, object]

    def params(self, values: dict[str, object]) -> dict[str, object]:
        return {**self.constants, **values}


def compile_statement(stmt: sa.ClauseElement) -> Statement:
    compiled = stmt.compile(dialect=_DIALECT)
    return Statement(str(compiled), dict(compiled.params))


MAX_SHAPES = 5_000


class _Cache:
    """Compiled statements by shape. Shapes are few (layers × filter combinations) but a CQL2
    filter adds its own, so past MAX_SHAPES the cache starts over; a race only compiles twice."""

    def __init__(self) -> None:
        self._items: dict[tuple[object, ...], Statement] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], build: Callable[[], sa.ClauseElement]) -> Statement:
        found = self._items.get(key)
        if found is None:
            found = compile_statement(build())
            with self._lock:
                if len(self._items) >= MAX_SHAPES:  # CQL2 filters make shapes open-ended
                    self._items.clear()
                self._items[key] = found
        return found


CACHE = _Cache()


def bind(name: str, type_: sa.types.TypeEngine) -> sa.BindParameter:
    return sa.bindparam(name, type_=type_)


# --- conditions and order ----------------------------------------------------------------------


def _shape(q: ItemsQuery) -> tuple[object, ...]:
    cursor = q.cursor
    return (
        q.spec.name,
        q.fields,
        q.bbox is not None,
        None if q.interval is None else (q.interval.start is not None, q.interval.end is not None),
        tuple(f.field for f in q.filters),
        q.updated_since is not None,
        q.include_deleted,
        None if q.cql is None else (q.cql.shape, q.cql.crs.uri),
        q.bbox.srid if q.bbox is not None else None,
        q.crs.uri,
        q.skip_geometry,
        None if q.district is None else q.district.layer.name,
        q.sort,
        None if cursor is None else (cursor.backward, cursor.value is None),
    )


def conditions(q: ItemsQuery, t: sa.Table) -> list[sa.ColumnElement[bool]]:
    """WHERE clauses of the query's filters (not the cursor), all on bound parameters.

    The bbox is compared in the column's own CRS (4326), so the GiST index on geom is used.
    """
    out: list[sa.ColumnElement[bool]] = []
    if not q.include_deleted:
        out.append(t.c.deleted_at.is_(None))
    if q.bbox is not None:
        envelope = sa.func.ST_MakeEnvelope(
            *(bind(n, sa.Float()) for n in ("min_lon", "min_lat", "max_lon", "max_lat")),
            sa.literal_column(str(q.bbox.srid)),
        )
        if q.bbox.srid != 4326:  # a projected bbox-crs: the box is transformed, never the column
            envelope = sa.func.ST_Transform(envelope, sa.literal_column("4326"))
        out += [t.c.geom.op("&&")(envelope), sa.func.ST_Intersects(t.c.geom, envelope)]
    if q.interval is not None and q.spec.temporal_field is not None:
        column = t.c[q.spec.temporal_field]
        kind = sa.Date() if isinstance(column.type, sa.Date) else sa.DateTime(timezone=True)
        if q.interval.start is not None:
            out.append(column >= bind("time_start", kind))
        if q.interval.end is not None:
            out.append(column <= bind("time_end", kind))
    for f in q.filters:
        column = t.c[f.field]
        out.append(column == sa.any_(bind(f"filter_{f.field}", postgresql.ARRAY(column.type))))
    if q.updated_since is not None:
        out.append(t.c.updated_at >= bind("updated_since", sa.DateTime(timezone=True)))
    if q.cql is not None:
        out.append(q.cql.clause(t))
    if q.district is not None:
        out.append(_in_district(q, t))
    return out


def _in_district(q: ItemsQuery, t: sa.Table) -> sa.ColumnElement[bool]:
    """Features meeting the district's interior (a polygon only touching its border is not in)."""
    assert q.district is not None
    d = q.district.layer.table
    area = (
        sa.select(d.c.geom).where(d.c.id == bind("district_id", sa.BigInteger())).scalar_subquery()
    )
    if q.spec.geometry_type == "Point":
        return sa.func.ST_Intersects(t.c.geom, area)
    return sa.and_(t.c.geom.op("&&")(area), sa.func.ST_Relate(t.c.geom, area, "T********"))


def resolve(conn: sa.Connection, q: ItemsQuery) -> ItemsQuery:
    """The query with its district found (by name or code; an ambiguous name is refused)."""
    if q.district is None or q.district.area_id is not None:
        return q
    area = find_area(conn, q.district.layer, q.district.name)
    return dataclasses.replace(q, district=dataclasses.replace(q.district, area_id=area.id))


def condition_values(q: ItemsQuery) -> dict[str, object]:
    values: dict[str, object] = {}
    if q.bbox is not None:
        b = q.bbox
        values |= {
            "min_lon": b.min_lon,
            "min_lat": b.min_lat,
            "max_lon": b.max_lon,
            "max_lat": b.max_lat,
        }
    if q.interval is not None and q.spec.temporal_field is not None:
        as_dates = isinstance(q.spec.table.c[q.spec.temporal_field].type, sa.Date)
        start, end = q.interval.dates() if as_dates else (q.interval.start, q.interval.end)
        values |= {"time_start": start, "time_end": end}
    for f in q.filters:
        values[f"filter_{f.field}"] = list(f.values)
    if q.updated_since is not None:
        values["updated_since"] = q.updated_since
    if q.cql is not None:
        values |= dict(q.cql.values)
    if q.district is not None:
        values["district_id"] = q.district.area_id
    return values


def order_by(t: sa.Table | sa.Subquery, sort: Sort, descending: bool) -> list[sa.ColumnElement]:
    """ASC NULLS LAST / DESC NULLS FIRST: one the exact reverse of the other, as btree indexes scan."""
    columns: list[sa.ColumnElement] = []
    if sort.field is not None:
        c = t.c[sort.field]
        columns.append(c.desc().nulls_first() if descending else c.asc().nulls_last())
    columns.append(t.c.id.desc() if descending else t.c.id.asc())
    return columns


def _after_cursor(q: ItemsQuery, t: sa.Table, descending: bool) -> sa.ColumnElement[bool]:
    """Rows strictly after the cursor's edge row in the effective order (keyset paging)."""
    assert q.cursor is not None
    row_id = bind("cursor_id", sa.BigInteger())
    id_after = t.c.id < row_id if descending else t.c.id > row_id
    if q.sort.field is None:
        return id_after
    c = t.c[q.sort.field]
    nullable = c.nullable
    if q.cursor.value is None:  # the edge row's value is null
        if descending:  # nulls first: then every non-null row follows
            return sa.or_(sa.and_(c.is_(None), id_after), c.is_not(None))
        return sa.and_(c.is_(None), id_after)
    v = bind("cursor_value", c.type)
    beyond = c < v if descending else c > v
    clauses = [beyond, sa.and_(c == v, id_after)]
    if nullable and not descending:
        clauses.append(c.is_(None))
    return sa.or_(*clauses)


# --- the page ----------------------------------------------------------------------------------


def tombstone_json(t: sa.Subquery) -> sa.ColumnElement:
    """A deleted feature for sync clients: id, external_id, deleted_at, and no geometry."""
    return sa.func.json_build_object(
        sql_key("type"), sql_key("Feature"), sql_key("id"), t.c.id, sql_key("geometry"), sa.null(),
        sql_key("properties"), sa.func.json_build_object(
            sql_key("external_id"), t.c.external_id, sql_key("deleted_at"), t.c.deleted_at,
            sql_key("updated_at"), t.c.updated_at,
        ),
    )  # fmt: skip


def _page_statement(q: ItemsQuery) -> sa.Select:
    spec, t = q.spec, q.spec.table
    backward = q.cursor is not None and q.cursor.backward
    descending = q.sort.descending != backward
    columns = [t.c.id, t.c.external_id, *(t.c[f] for f in q.fields), t.c.source, t.c.geom]
    if q.sync:
        columns += [t.c.updated_at, t.c.deleted_at]
    order = order_by(t, q.sort, descending)
    where = conditions(q, t)
    if q.cursor is not None:
        where.append(_after_cursor(q, t, descending))
    inner = (
        sa.select(*columns, sa.func.row_number().over(order_by=order).label("rn"))
        .where(*where)
        .order_by(*order)
        .limit(bind("fetch", sa.BigInteger()))
        .offset(bind("offset", sa.BigInteger()))
        .subquery("p")
    )
    feature = feature_json(
        spec,
        q.fields,
        inner,
        extra=("updated_at",) if q.sync else (),
        crs=q.crs,
        geometry=not q.skip_geometry,
    )
    if q.include_deleted:
        feature = sa.case((inner.c.deleted_at.is_(None), feature), else_=tombstone_json(inner))
    rn = inner.c.rn
    in_page = rn <= bind("row_end", sa.BigInteger())
    features = sa.func.json_agg(
        postgresql.aggregate_order_by(feature, rn.desc() if backward else rn)
    )
    key = (
        sa.func.json_build_array(inner.c.id)
        if q.sort.field is None
        else sa.func.json_build_array(inner.c[q.sort.field], inner.c.id)
    )
    key_text = sa.cast(key, sa.Text)
    return sa.select(
        sa.cast(
            sa.func.coalesce(features.filter(in_page), sa.literal_column("'[]'::json")), sa.Text
        ),
        sa.func.count(),
        sa.func.max(key_text).filter(rn == bind("first_row", sa.BigInteger())),
        sa.func.max(key_text).filter(rn == bind("row_end", sa.BigInteger())),
        sa.func.now(),
    ).select_from(inner)


def page_statement(q: ItemsQuery) -> tuple[Statement, dict[str, object]]:
    """The compiled page SQL for this query's shape, and the parameters for this request."""
    statement = CACHE.get(("page", *_shape(q)), lambda: _page_statement(q))
    limit, offset = q.page.limit, q.page.offset
    values = condition_values(q) | {
        "fetch": limit + 1,
        "offset": offset,
        "first_row": offset + 1,
        "row_end": offset + limit,
    }
    if q.cursor is not None:
        values |= {"cursor_id": q.cursor.row_id, "cursor_value": q.cursor.value}
    return statement, statement.params(values)


@dataclass(frozen=True)
class PageResult:
    """One page: the features array as JSON bytes, and what the links need."""

    features_json: bytes
    fetched: int  # rows read: limit + 1 means there is more in the direction of travel
    limit: int
    first_key: str | None  # sort key of the row at the start of the travel ([value, id] JSON)
    last_key: str | None  # ... and of the last row returned (only when there is more)
    timestamp: dt.datetime

    @property
    def returned(self) -> int:
        return min(self.fetched, self.limit)

    @property
    def has_more(self) -> bool:
        return self.fetched > self.limit


def run_page(
    pg: psycopg.Connection, statement: Statement, params: dict[str, object], limit: int
) -> PageResult:
    """Run the page SQL on a psycopg connection, reading the JSON as bytes (never decoded)."""
    with pg.cursor() as cur:
        cur.adapters.register_loader("text", BytesLoader)
        cur.execute(statement.sql, params)
        row = cur.fetchone()
    assert row is not None
    features, fetched, first_key, last_key, now = row
    return PageResult(
        features_json=bytes(features),
        fetched=int(fetched),
        limit=limit,
        first_key=first_key.decode() if first_key is not None else None,
        last_key=last_key.decode() if last_key is not None else None,
        timestamp=now,
    )


def read_connection(engine: sa.Engine) -> sa.Connection:
    """A pooled connection in autocommit: a read is one statement, so it needs no BEGIN and
    ROLLBACK round trips around it."""
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def driver_connection(conn: sa.Connection) -> psycopg.Connection:
    """The psycopg connection under a SQLAlchemy one (same transaction)."""
    return conn.connection.driver_connection  # type: ignore[return-value]


def read_page(conn: sa.Connection, q: ItemsQuery) -> PageResult:
    statement, params = page_statement(resolve(conn, q))
    return run_page(driver_connection(conn), statement, params, q.page.limit)


def count_matched(conn: sa.Connection, q: ItemsQuery) -> int:
    """numberMatched, exact: only when a caller asks or a page proves it for free (a count
    costs a scan of every match)."""
    t = q.spec.table
    q = resolve(conn, q)
    statement = CACHE.get(
        ("count", *_shape(q)[:-2]),  # the filters' shape: sort and cursor do not change a count
        lambda: sa.select(sa.func.count()).select_from(t).where(*conditions(q, t)),
    )
    with driver_connection(conn).cursor() as cur:
        cur.execute(statement.sql, statement.params(condition_values(q)))
        row = cur.fetchone()
    return int(row[0]) if row else 0


# --- one feature -------------------------------------------------------------------------------


def item_statement(
    spec: LayerSpec, fields: tuple[str, ...], crs: Crs = CRS84, geometry: bool = True
) -> Statement:
    t = spec.table
    return CACHE.get(
        ("item", spec.name, fields, crs.uri, geometry),
        lambda: sa.select(
            sa.cast(feature_json(spec, fields, crs=crs, geometry=geometry), sa.Text)
        ).where(t.c.id == bind("id", sa.BigInteger()), t.c.deleted_at.is_(None)),
    )


def read_item(
    conn: sa.Connection,
    spec: LayerSpec,
    fields: tuple[str, ...],
    feature_id: int,
    crs: Crs = CRS84,
    geometry: bool = True,
) -> bytes | None:
    """One live feature as GeoJSON bytes, or None."""
    statement = item_statement(spec, fields, crs, geometry)
    with driver_connection(conn).cursor() as cur:
        cur.adapters.register_loader("text", BytesLoader)
        cur.execute(statement.sql, statement.params({"id": feature_id}))
        row = cur.fetchone()
    return bytes(row[0]) if row else None


def export_select(q: ItemsQuery, columns: list[sa.ColumnElement], *, whole: bool) -> sa.Select:
    """Rows for the export formats: the query's filters and order, paged only when `whole` is false."""
    t = q.spec.table
    descending = q.sort.descending != (q.cursor is not None and q.cursor.backward)
    order = order_by(t, q.sort, descending)
    where = conditions(q, t)
    if q.cursor is not None:
        where.append(_after_cursor(q, t, descending))
    stmt = sa.select(*columns).where(*where).order_by(*order)
    if not whole:
        stmt = stmt.limit(bind("export_limit", sa.BigInteger())).offset(
            bind("offset", sa.BigInteger())
        )
    return stmt


def export_values(q: ItemsQuery, *, whole: bool) -> dict[str, object]:
    values = condition_values(q)
    if q.cursor is not None:
        values |= {"cursor_id": q.cursor.row_id, "cursor_value": q.cursor.value}
    if not whole:
        values |= {"export_limit": q.page.limit, "offset": q.page.offset}
    return values
