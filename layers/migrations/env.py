"""Alembic environment: the URL comes from the caller (the CLI or the tests), never a file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import gis.analysis.pairs  # noqa: F401  (declares the analysis tables in the metadata)
from gis.spec import metadata

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
connection = config.attributes.get("connection")


def _run(conn) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=conn, target_metadata=metadata, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    _run(connection)
else:
    engine = create_engine(str(url))
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()
