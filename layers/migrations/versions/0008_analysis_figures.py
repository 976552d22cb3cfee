"""Per-target hazard figures for the stored reach, and the pairings kept fresh at write time.

`analysis_target_figures` holds, per target with a live hazard within `pairs.REACH_M`, how many of
them are active now, the nearest active one, and the last day on which any of them changed status
or was recorded (`settled_on`): a question as of that day or later reads the figures instead of
counting pairs. `analysis_pairings` lists the (hazard, target) layer pairs that every write path
refreshes (gis/analysis/pairs.py). The pairs measured before are dropped, so that the next refresh
measures pairs and figures together.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_pairings",
        sa.Column("pairing", sa.Text, primary_key=True),
        sa.Column("hazard_layer", sa.Text, nullable=False),
        sa.Column("target_layer", sa.Text, nullable=False),
    )
    op.create_table(
        "analysis_target_figures",
        sa.Column("pairing", sa.Text, primary_key=True),
        sa.Column("target_id", sa.BigInteger, primary_key=True),
        sa.Column("hazards_within", sa.Integer, nullable=False),
        sa.Column("nearest_m", sa.Double, nullable=True),
        sa.Column("settled_on", sa.Date, nullable=True),
    )
    # Pairings measured before stay declared; their pairs are measured again with the figures.
    op.execute(
        "INSERT INTO analysis_pairings (pairing, hazard_layer, target_layer) "
        "SELECT DISTINCT pairing, split_part(pairing, ':', 1), split_part(pairing, ':', 2) "
        "FROM analysis_pair_versions"
    )
    op.execute("DELETE FROM analysis_pair_versions")
    op.execute("DELETE FROM analysis_pairs")


def downgrade() -> None:
    op.drop_table("analysis_target_figures")
    op.drop_table("analysis_pairings")
