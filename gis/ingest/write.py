"""Writing validated rows: COPY into a temporary table, then one upsert by external_id.

Rows that differ from what is stored are updated (and their `updated_at` moves); identical rows
are left alone, so importing the same file twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from gis.errors import InvalidInput, RowError
from gis.spec import LayerSpec, import_batches

Progress = Callable[[int], None]
STAGING = "_safeground_import"


def upsert(
    conn: sa.Connection,
    spec: LayerSpec,
    records: list[dict[str, object]],
    geometries: list[str],
    batch_id: int | None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Insert or update the rows; returns (inserted, updated)."""
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
        raise InvalidInput([RowError(None, _constraint(exc), _db_reason(exc))]) from exc
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


def _constraint(exc: sa.exc.IntegrityError) -> str | None:
    diag = getattr(exc.orig, "diag", None)
    return getattr(diag, "constraint_name", None) or getattr(diag, "column_name", None)


def _db_reason(exc: sa.exc.IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or "the database refused the rows"
    detail = getattr(diag, "message_detail", None)
    return f"{primary}{': ' + detail if detail else ''}"
