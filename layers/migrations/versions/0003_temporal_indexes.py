"""Btree indexes on each layer's temporal field (with id), for datetime filters and sortby.

`datetime=` filters and `sortby=±field` keyset pages order by (field, id); with this index
PostgreSQL reads a page in order instead of sorting every match, and min/max for a
collection's temporal extent are index look-ups.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEMPORAL = {
    "hazard_areas": "recorded_on",
    "facilities": "rehabilitated_on",
    "distributions": "distributed_on",
    "outreach_sessions": "held_on",
}


def upgrade() -> None:
    for table, column in TEMPORAL.items():
        op.execute(f"CREATE INDEX {table}_{column}_id ON {table} ({column}, id)")


def downgrade() -> None:
    for table, column in TEMPORAL.items():
        op.execute(f"DROP INDEX IF EXISTS {table}_{column}_id")
