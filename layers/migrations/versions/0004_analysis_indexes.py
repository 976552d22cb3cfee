"""Indexes for the analyses: live active hazards alone, and point activities read from the index.

Coverage looks, for every village, at the hazard areas and the sessions around it — about 160,000
hazard and 300,000 session index entries for the whole country at the `large` demo scale.

- A partial GiST index on live, active (suspected or confirmed) hazard areas: a quarter of the
  hazard areas are cleared, reduced or cancelled and are never candidates. Its predicate must
  match `hazard_areas.SPEC.active_filter` (a test checks that it does).
- On the point layers that cover (sessions, distributions, facilities): a GiST index on the live
  points that also carries the date and the point itself, so coverage reads them with an
  index-only scan instead of visiting the table for each of the ~170 sessions around a village.
  (Polygon layers must not do this: a large polygon would not fit in an index entry.)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTIVE_HAZARD_STATUSES = ("suspected", "confirmed")
POINT_ACTIVITIES = {
    "outreach_sessions": "held_on",
    "distributions": "distributed_on",
    "facilities": "rehabilitated_on",
}


def upgrade() -> None:
    statuses = ", ".join(f"'{s}'" for s in ACTIVE_HAZARD_STATUSES)
    op.execute(
        "CREATE INDEX hazard_areas_geom_gist_active ON hazard_areas USING gist (geom) "
        f"WHERE deleted_at IS NULL AND status IN ({statuses})"
    )
    for table, column in POINT_ACTIVITIES.items():
        op.execute(
            f"CREATE INDEX {table}_geom_gist_live ON {table} USING gist (geom) "
            f"INCLUDE ({column}, geom) WHERE deleted_at IS NULL"
        )


def downgrade() -> None:
    for table in POINT_ACTIVITIES:
        op.execute(f"DROP INDEX IF EXISTS {table}_geom_gist_live")
    op.execute("DROP INDEX IF EXISTS hazard_areas_geom_gist_active")
