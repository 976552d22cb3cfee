"""Place search in three languages: unaccent + pg_trgm, a folding function, name_en/name_ru.

- `unaccent` and `pg_trgm` ship with PostgreSQL's contrib (postgresql-15 includes it); both are
  trusted extensions, so the database owner may create them.
- `sg_fold(text)`: one matching key for a name in Azerbaijani Latin, plain ASCII or Russian
  Cyrillic. Cyrillic letters are transliterated, diacritics dropped (ə→e, ı→i, ş→s, ç→c, ğ→g,
  ö→o, ü→u), case folded without relying on the server's locale, and the spellings that differ
  between the scripts made one (q/к→k, x/х/kh→h, gh→g, sh→s, ch→c, zh→j, y/й→i, w→v). Declared
  IMMUTABLE (with the unaccent dictionary named) so an index and a generated column may use it.
- villages get `name_en` and `name_ru` (from the reference data), and villages and districts a
  generated `search_key` with a trigram GIN index, so a search is an index scan.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from gis.search import SEARCH_DDL

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KEYS = {
    "villages": "coalesce(name, '') || ' ' || coalesce(name_az, '') || ' ' || coalesce(name_en, '') || ' ' || coalesce(name_ru, '')",
    "districts": "coalesce(name, '') || ' ' || coalesce(name_az, '') || ' ' || coalesce(name_az_ascii, '') || ' ' || coalesce(code, '')",
}


def upgrade() -> None:
    for statement in SEARCH_DDL:
        op.execute(statement)
    op.add_column("villages", sa.Column("name_en", sa.Text(), nullable=True))
    op.add_column("villages", sa.Column("name_ru", sa.Text(), nullable=True))
    for table, key in KEYS.items():
        op.add_column(
            table,
            sa.Column("search_key", sa.Text(), sa.Computed(f"sg_fold({key})", persisted=True)),
        )
        op.create_index(
            f"{table}_search_key_trgm",
            table,
            ["search_key"],
            postgresql_using="gin",
            postgresql_ops={"search_key": "gin_trgm_ops"},
        )


def downgrade() -> None:
    for table in KEYS:
        op.drop_index(f"{table}_search_key_trgm", table_name=table)
        op.drop_column(table, "search_key")
    op.drop_column("villages", "name_ru")
    op.drop_column("villages", "name_en")
    op.execute("DROP FUNCTION IF EXISTS sg_fold(text)")
