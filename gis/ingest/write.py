"""Writing validated rows: COPY into a temporary table, then one upsert by external_id.

Rows that differ from what is stored are updated (and their `updated_at` moves); identical rows
are left alone, so importing the same file twice changes nothing. Imports into one layer are
serialised by a transaction-level advisory lock: two overlapping imports at once would otherwise
lock the same rows in different orders and deadlock. A deleted feature comes back only when the
import says so (`restore_deleted`): its tombstone is what syncing partners have been told.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gis.db_errors import sqlstate
from gis.errors import Conflict, InvalidInput, RowError
from gis.spec import LayerSpec, import_batches

Progress = Callable[[int], None]
STAGING = "_safeground_import"
# First key of the advisory locks SafeGround takes (the second is the layer's): 'SG' in ASCII.
LOCK_NAMESPACE = 0x5347
MAX_LISTED = 1000


INT_RANGE = {sa.SmallInteger: 2**15 - 1, sa.BigInteger: 2**63 - 1, sa.Integer: 2**31 - 1}


def check_values(spec: LayerSpec, records: list[dict[str, object]]) -> None:
    """Refuse, with row and field, values the columns cannot hold: NUL bytes in text, numbers that
    are not finite, integers past the column's range (every input format ends here)."""
    limits: dict[str, int] = {}
    for name in records[0] if records else ():
        column_type = type(spec.table.c[name].type) if name in spec.table.c else None
        for kind, limit in INT_RANGE.items():  # most specific first: BigInteger is an Integer
            if column_type is not None and issubclass(column_type, kind):
                limits[name] = limit
                break
    errors: list[RowError] = []
    for row, record in enumerate(records, start=1):
        for name, value in record.items():
            reason = None
            if isinstance(value, str) and "\x00" in value:
                reason = "contains a NUL byte (\\x00), which cannot be stored"
            elif isinstance(value, float) and not math.isfinite(value):
                reason = f"must be a finite number, not {value}"
            elif isinstance(value, int) and not isinstance(value, bool) and name in limits:
                if abs(value) > limits[name]:
                    reason = f"{value} is out of range (at most ±{limits[name]:,})"
            if reason is not None:
                errors.append(RowError(row, name, reason))
                if len(errors) >= MAX_LISTED:
                    raise InvalidInput(errors)
    if errors:
        raise InvalidInput(errors)


def lock_layer(conn: sa.Connection, layer: str, wait_s: float) -> None:
    """Wait (at most `wait_s`) until no other import into `layer` runs; held until commit."""
    previous = conn.exec_driver_sql("SHOW lock_timeout").scalar_one()
    conn.execute(sa.text("SELECT set_config('lock_timeout', :wait, true)"),
                 {"wait": f"{max(1, int(wait_s * 1000))}ms"})  # fmt: skip
    try:
        with conn.begin_nested():
            conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:layer))"),
                {"namespace": LOCK_NAMESPACE, "layer": layer},
            )
    except sa.exc.OperationalError as exc:
        if sqlstate(exc) != "55P03":
            raise
        raise Conflict(
            f"another import of the layer '{layer}' is running; try again when it has finished"
        ) from None
    finally:
        conn.execute(sa.text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": previous})


def refuse_deleted(conn: sa.Connection, spec: LayerSpec, records: list[dict[str, object]]) -> None:
    """Refuse rows whose external_id names a deleted feature, each with its row number."""
    t = spec.table
    ids = [str(r["external_id"]) for r in records]
    deleted = conn.execute(
        sa.select(t.c.external_id, t.c.deleted_at).where(
            # one array parameter: an expanding IN fails past PostgreSQL's 65,535 parameters
            t.c.external_id == sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Text))),
            t.c.deleted_at.is_not(None),
        ),
        {"ids": ids},
    ).all()
    if not deleted:
        return
    rows = {external_id: i + 1 for i, external_id in enumerate(ids)}
    raise InvalidInput([
        RowError(rows[external_id], "external_id",
                 f"'{external_id}' was deleted on {when:%Y-%m-%d}; importing it again would bring "
                 "it back: import with restore_deleted (--restore-deleted) if that is meant")
        for external_id, when in sorted(deleted, key=lambda d: rows[d[0]])[:MAX_LISTED]
    ])  # fmt: skip


def upsert(
    conn: sa.Connection,
    spec: LayerSpec,
    records: list[dict[str, object]],
    geometries: list[str],
    batch_id: int | None,
    progress: Progress | None = None,
    *,
    lock_wait_s: float = 30.0,
    restore_deleted: bool = False,
) -> tuple[int, int]:
    """Insert or update the rows; returns (inserted, updated)."""
    check_values(spec, records)
    lock_layer(conn, spec.name, lock_wait_s)
    if not restore_deleted:
        refuse_deleted(conn, spec, records)
    columns = ["external_id", "source", *spec.property_names]
    table = spec.table.name
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE {STAGING} AS SELECT {', '.join(columns)}, geom FROM {table} WITH NO DATA"
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {STAGING} ({', '.join(columns)}, geom) FROM STDIN") as copy:
        for i, (record, geometry) in enumerate(zip(records, geometries, strict=True)):
            copy.write_row([*(record[c] for c in columns), geometry])
            if progress and i % 2000 == 1999:
                progress(2000)
    if progress:
        progress(len(records) % 2000)
    compared = [*columns[1:], "geom"]
    sql = f"""
        WITH up AS (
            INSERT INTO {table} ({", ".join(columns)}, geom, import_batch_id)
            SELECT {", ".join(columns)}, geom, :batch FROM {STAGING}
            ON CONFLICT (external_id) DO UPDATE SET
                {", ".join(f"{c} = EXCLUDED.{c}" for c in compared)},
                import_batch_id = EXCLUDED.import_batch_id,
                updated_at = now(),
                deleted_at = NULL
            WHERE ({", ".join(f"{table}.{c}" for c in compared)})
                  IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in compared)})
               OR {table}.deleted_at IS NOT NULL
            RETURNING (xmax = 0) AS inserted
        )
        SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
    """
    try:
        with conn.begin_nested():
            inserted, updated = conn.execute(sa.text(sql), {"batch": batch_id}).one()
    except sa.exc.IntegrityError as exc:
        raise InvalidInput([constraint_error(spec, exc)]) from None
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    return int(inserted), int(updated)


def start_batch(conn: sa.Connection, layer: str, filename: str | None, actor: str | None) -> int:
    return int(
        conn.execute(
            sa.insert(import_batches)
            .values(layer=layer, filename=filename, actor=actor)
            .returning(import_batches.c.id)
        ).scalar_one()
    )


def finish_batch(
    conn: sa.Connection, batch_id: int, rows: int, inserted: int, updated: int
) -> None:
    conn.execute(
        sa.update(import_batches)
        .where(import_batches.c.id == batch_id)
        .values(rows=rows, inserted=inserted, updated=updated, unchanged=rows - inserted - updated)
    )


def constraint_error(spec: LayerSpec, exc: sa.exc.IntegrityError) -> RowError:
    """The field and a message for a constraint the database enforced; never its own text, which
    holds the failing row, the constraint's name and hex geometry."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None) or ""
    state = sqlstate(exc)
    declared = next(
        (c for c in spec.table.constraints if c.name == name and c.info.get("message")), None
    )
    if declared is not None:
        field = str(declared.info["field"])
        return RowError(None, field, f"{field} {declared.info['message']}")
    if state == "23502":  # not null
        column = getattr(diag, "column_name", None)
        return RowError(None, column, f"{column} is required" if column else "a value is required")
    if state == "23505":
        return RowError(None, "external_id", "two rows have the same external_id")
    for suffix, message in (("_allowed", "is not one of the allowed values"),
                            ("_non_negative", "must not be negative")):  # fmt: skip
        if name.endswith(suffix) and name.removesuffix(suffix) in spec.table.c:
            field = name.removesuffix(suffix)
            return RowError(None, field, f"{field} {message}")
    if name.startswith("geom"):
        return RowError(None, "geometry", "the geometry is not valid or out of range")
    return RowError(None, None, "the database refused the rows (a consistency rule)")
