"""Alembic environment: the URL comes from the caller (the CLI or the tests), never a file.

The metadata holds every table (the layers, import batches, keys and audit log), so
`alembic revision --autogenerate` compares the whole schema with the specs.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from layers.migrations import COMPARE

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
connection = config.attributes.get("connection")


def _run(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conn, transaction_per_migration=False, **COMPARE)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = create_engine(str(url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
