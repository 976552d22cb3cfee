"""The accidents layer: explosive-ordnance accidents, casualties by girls, boys, women and men.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

PARTS = ("girls", "boys", "women", "men")
DEVICES = ("AP_mine", "AT_mine", "mixed", "cluster_munitions", "UXO_ERW", "IED", "unknown")
ACTIVITIES = ("farming", "herding", "collecting_scrap", "travel", "playing", "demining", "other")


def _allowed(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_allowed")


def _total(outcome: str) -> sa.Column:
    parts = [f"{outcome}_{p}" for p in PARTS]
    known = " + ".join(f"coalesce({p}, 0)" for p in parts)
    return sa.Column(
        f"{outcome}_total",
        sa.Integer,
        sa.Computed(
            f"CASE WHEN coalesce({', '.join(parts)}) IS NULL THEN NULL ELSE {known} END",
            persisted=True,
        ),
    )


def upgrade() -> None:
    counts = [f"{o}_{p}" for o in ("killed", "injured") for p in PARTS]
    op.create_table(
        "accidents",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("external_id", sa.Text, nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("import_batch_id", sa.BigInteger, sa.ForeignKey("import_batches.id")),
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 "
            "AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="geom_in_range",
        ),
        sa.Column("accident_on", sa.Date, nullable=False),
        sa.Column("device_category", sa.Text, nullable=False),
        sa.Column("activity", sa.Text),
        *(sa.Column(c, sa.Integer) for c in counts),
        sa.Column("during_clearance", sa.Boolean),
        sa.Column("source_organisation", sa.Text),
        sa.Column("notes", sa.Text),
        _total("killed"),
        _total("injured"),
        _allowed("device_category", DEVICES),
        _allowed("activity", ACTIVITIES),
        *(sa.CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in counts),
    )
    op.execute("CREATE INDEX accidents_geom_gist ON accidents USING gist (geom)")
    op.execute("CREATE INDEX accidents_geog_gist ON accidents USING gist (geography(geom))")
    op.execute("CREATE INDEX accidents_updated_at ON accidents (updated_at)")
    op.execute("CREATE INDEX accidents_accident_on_id ON accidents (accident_on, id)")
    op.execute(
        "CREATE INDEX accidents_geom_gist_live ON accidents USING gist (geom) "
        "INCLUDE (accident_on, geom) WHERE deleted_at IS NULL"
    )


def downgrade() -> None:
    op.drop_table("accidents")
