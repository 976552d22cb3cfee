"""The six layers, their import batches, constraints and spatial indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _enum(column: str, *values: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(
        f"{column} IN ({', '.join(repr(v) for v in values)})", name=f"{column}_allowed"
    )


def _non_negative(*columns: str) -> list[sa.CheckConstraint]:
    return [sa.CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in columns]


def _layer(name: str, geometry_type: str, *columns: sa.Column | sa.Constraint) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("external_id", sa.Text, nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("geom", Geometry(geometry_type, srid=4326, spatial_index=False), nullable=False),
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
        *columns,
    )
    op.execute(f"CREATE INDEX {name}_geom_gist ON {name} USING gist (geom)")
    # Geodesic distance queries cast to geography; this index makes them index-driven.
    op.execute(f"CREATE INDEX {name}_geog_gist ON {name} USING gist (geography(geom))")
    op.execute(f"CREATE INDEX {name}_updated_at ON {name} (updated_at)")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "import_batches",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("layer", sa.Text, nullable=False),
        sa.Column("filename", sa.Text),
        sa.Column("actor", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    )
    _layer(
        "hazard_areas",
        "MULTIPOLYGON",
        sa.Column("name", sa.Text),
        sa.Column("hazard_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("recorded_on", sa.Date, nullable=False),
        sa.Column("status_changed_on", sa.Date),
        sa.Column("survey_method", sa.Text),
        sa.Column("source_organisation", sa.Text),
        sa.Column("notes", sa.Text),
        sa.Column("area_m2", sa.Float, sa.Computed("ST_Area(geom::geography)", persisted=True)),
        _enum(
            "hazard_type",
            "AP_mine",
            "AT_mine",
            "mixed",
            "cluster_munitions",
            "UXO_ERW",
            "IED",
            "unknown",
        ),
        _enum("status", "suspected", "confirmed", "reduced", "cancelled", "cleared"),
        sa.CheckConstraint(
            "status_changed_on IS NULL OR status_changed_on >= recorded_on",
            name="status_after_record",
        ),
    )
    _layer(
        "facilities",
        "POINT",
        sa.Column("facility_type", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("rehabilitated_on", sa.Date),
        sa.Column("works_done", sa.Text),
        sa.Column("capacity", sa.Integer),
        sa.Column("organisation", sa.Text),
        sa.Column("notes", sa.Text),
        _enum(
            "facility_type",
            "school",
            "kindergarten",
            "safe_play_area",
            "health_post",
            "water_point",
            "other",
        ),
        *_non_negative("capacity"),
    )
    _layer(
        "distributions",
        "POINT",
        sa.Column("distributed_on", sa.Date, nullable=False),
        sa.Column("item_category", sa.Text, nullable=False),
        sa.Column("quantity", sa.Float),
        sa.Column("unit", sa.Text),
        sa.Column("households", sa.Integer),
        sa.Column("beneficiaries", sa.Integer),
        sa.Column("partner_organisation", sa.Text),
        sa.Column("place_name", sa.Text),
        sa.Column("notes", sa.Text),
        _enum(
            "item_category", "food", "fertiliser", "seeds", "hygiene", "cash", "shelter", "other"
        ),
        *_non_negative("quantity", "households", "beneficiaries"),
    )
    parts = ("girls", "boys", "women", "men")
    _layer(
        "outreach_sessions",
        "POINT",
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("audience", sa.Text),
        sa.Column("modality", sa.Text),
        *(sa.Column(p, sa.Integer) for p in parts),
        sa.Column("participants_total", sa.Integer),
        sa.Column("organisation", sa.Text),
        sa.Column("place_name", sa.Text),
        sa.Column("notes", sa.Text),
        _enum("audience", "children", "adolescents", "adults", "mixed", "teachers", "farmers"),
        _enum("modality", "school", "community", "door_to_door", "media", "other"),
        *_non_negative(*parts, "participants_total"),
        sa.CheckConstraint(
            "participants_total IS NULL OR participants_total >= "
            "coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0) + coalesce(men, 0)",
            name="total_holds_parts",
        ),
    )
    _layer(
        "villages",
        "POINT",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_az", sa.Text),
        sa.Column("district_code", sa.Text),
        sa.Column("district_name", sa.Text),
        sa.Column("population", sa.Integer),
        sa.Column("feature_code", sa.Text),
        sa.Column("geonames_id", sa.BigInteger),
        *_non_negative("population"),
    )
    _layer(
        "districts",
        "MULTIPOLYGON",
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_az", sa.Text),
        sa.Column("name_az_ascii", sa.Text),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("iso_code", sa.Text),
        sa.Column("unit_type", sa.Text),
        sa.Column("population_1999", sa.Integer),
        *_non_negative("population_1999"),
    )


def downgrade() -> None:
    for name in (
        "districts",
        "villages",
        "outreach_sessions",
        "distributions",
        "facilities",
        "hazard_areas",
    ):
        op.drop_table(name)
    op.drop_table("import_batches")
