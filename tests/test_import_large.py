"""A file with more rows than PostgreSQL takes bind parameters (65,535) imports like a small one."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from gis.ingest import import_file
from layers import REGISTRY

ROWS = 70_000


def test_an_import_past_postgres_parameter_limit_is_one_statement_per_step(
    conn, tmp_path, limits
) -> None:
    path = tmp_path / "many.csv"
    pd.DataFrame(
        {
            "external_id": [f"m{i}" for i in range(ROWS)],
            "longitude": [46.0 + (i % 1000) / 1000 for i in range(ROWS)],
            "latitude": [40.0 + (i // 1000) / 1000 for i in range(ROWS)],
            "held_on": "2025-02-01",
        }
    ).to_csv(path, index=False)
    report = import_file(conn, REGISTRY["outreach_sessions"], path, limits)
    assert (report.rows, report.inserted) == (ROWS, ROWS)
    assert conn.execute(sa.text("SELECT count(*) FROM outreach_sessions")).scalar_one() == ROWS
