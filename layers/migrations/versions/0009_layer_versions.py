"""A change counter per layer: every statement that writes a layer table moves its version.

Whole-layer downloads are cached as files (gis.download_cache) under the layer's version, so a
write of any kind (import, edit, soft or hard delete, TRUNCATE) makes the next download fresh. The
counter is a row in `layer_versions`, bumped by a statement-level trigger in the writing
transaction: it becomes visible exactly when the write does (a sequence would not), and a rolled
back write leaves it as it was. A new layer's migration adds the same trigger (`TRIGGER_SQL`);
tests/test_download_cache.py checks that every registered layer has it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LAYERS = (
    "accidents",
    "districts",
    "distributions",
    "facilities",
    "hazard_areas",
    "outreach_sessions",
    "villages",
)

FUNCTION_SQL = """
CREATE FUNCTION sg_layer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO layer_versions AS v (layer, version) VALUES (TG_TABLE_NAME, 1)
    ON CONFLICT (layer) DO UPDATE SET version = v.version + 1;
    RETURN NULL;
END
$$
"""

TRIGGER_SQL = (
    "CREATE TRIGGER {table}_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION sg_layer_changed()"
)


def upgrade() -> None:
    op.execute(
        "CREATE TABLE layer_versions (layer text PRIMARY KEY, version bigint NOT NULL DEFAULT 0)"
    )
    op.execute(FUNCTION_SQL)
    for table in LAYERS:
        op.execute(TRIGGER_SQL.format(table=table))


def downgrade() -> None:
    for table in LAYERS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS sg_layer_changed()")
    op.execute("DROP TABLE IF EXISTS layer_versions")
