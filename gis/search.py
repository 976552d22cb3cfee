"""Place search: villages, districts and facilities by name, in Azerbaijani, English or Russian.

Names and the query are folded by the database's `sg_fold` (migration 0007: case, diacritics,
Cyrillic transliteration and the spellings that differ between the scripts), then compared with
pg_trgm's word similarity, so "Quzanli", "quzanlı", "Кузанлы" and the typo "Quzanly" all find
Quzanlı. Layers with a `search_key` column (villages, districts) are searched through its
trigram index; others by their name fields. A hit whose folded name equals the folded query
ranks first, then by similarity, then the more populous place.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gis.errors import InvalidParameter, NotFound
from gis.params import shown
from gis.spec import LayerSpec, Role

MAX_QUERY_CHARS = 100
MAX_HITS = 100
THRESHOLD = 0.5  # word similarity a hit needs (pg_trgm's default, 0.6, misses two-letter typos)
LANGS = ("az", "en", "ru")

# sg_fold: one matching key for a name in Azerbaijani Latin, plain ASCII or Russian Cyrillic.
# Cyrillic is transliterated, diacritics dropped (ə→e, ı→i, ş→s, ç→c, ğ→g, ö→o, ü→u), case folded
# without relying on the server's locale, and the spellings that differ between the scripts made
# one (q/к→k, x/х/kh→h, gh→g, sh→s, ch→c, zh→j, y/й→i, w→v). IMMUTABLE, with the unaccent
# dictionary named, so a generated column and an index may use it. Migration 0007 and the layer
# tables (for databases built from the specs) both run SEARCH_DDL.
CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщыэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЫЭЮЯ"
LATIN = "abvgdeejziiklmnoprstufhccssieua" * 2
SILENT = "ъьЪЬ"  # hard and soft signs: no letter of their own
FOLD_SQL = f"""
CREATE OR REPLACE FUNCTION sg_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT translate(
    replace(replace(replace(replace(replace(
      lower(public.unaccent('public.unaccent'::regdictionary,
        translate(value, 'əƏıIİ{CYRILLIC}{SILENT}', 'eeiii{LATIN}'))),
      'kh', 'h'), 'gh', 'g'), 'sh', 's'), 'ch', 'c'), 'zh', 'j'),
    'qxyw', 'khiv')
$$
"""
SEARCH_DDL = (
    "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
    FOLD_SQL,
)


def search_key_column(*fields: str) -> sa.Column[str]:
    """A place layer's search key: every spelling of its name, folded by sg_fold (|| and
    coalesce, not concat_ws, which PostgreSQL does not hold immutable)."""
    spellings = " || ' ' || ".join(f"coalesce({field}, '')" for field in fields)
    return sa.Column("search_key", sa.Text, sa.Computed(f"sg_fold({spellings})", persisted=True))


def index_search_key(table: sa.Table) -> None:
    """sg_fold and its extensions created before the table that uses them, and the key's
    trigram index (migration 0007 makes the same for migrated databases)."""
    for statement in SEARCH_DDL:
        sa.event.listen(table, "before_create", sa.DDL(statement))
    sa.Index(
        f"{table.name}_search_key_trgm",
        table.c.search_key,
        postgresql_using="gin",
        postgresql_ops={"search_key": "gin_trgm_ops"},
    )


@dataclass(frozen=True)
class Hit:
    layer: str
    id: int
    name: str
    name_az: str | None
    name_en: str | None
    name_ru: str | None
    district: str | None
    district_code: str | None
    lon: float
    lat: float
    score: float
    exact: bool
    population: int | None

    def label(self, lang: str = "az") -> str:
        """The name in `lang`, falling back to the Azerbaijani, then the romanised name."""
        chosen = {"az": self.name_az, "en": self.name_en, "ru": self.name_ru}.get(lang)
        return chosen or self.name_az or self.name


def _fold(value: sa.ColumnElement) -> sa.ColumnElement:
    return sa.func.sg_fold(value)


def _names(spec: LayerSpec, role: Role) -> list[str]:
    visible = set(spec.visible_fields(role))
    fields = [f for f in (spec.name_fields or ("name",)) if f in visible]
    return fields or (["name"] if "name" in visible else [])


def _layer_select(
    spec: LayerSpec, districts: LayerSpec | None, role: Role, folded: sa.ColumnElement
) -> sa.Select | None:
    t = spec.table
    names = _names(spec, role)
    if not names:
        return None
    key = (
        t.c.search_key
        if "search_key" in t.c
        else _fold(sa.func.concat_ws(" ", *(t.c[n] for n in names)))
    )
    # coalesce: a missing name (NULL) must not make the match unknown (NULLs sort first in DESC).
    exact = sa.func.coalesce(sa.or_(*(_fold(t.c[n]) == folded for n in names)), sa.false())

    def col(name: str) -> sa.ColumnElement:
        return t.c[name] if name in t.c and name in names else sa.null()

    point = t.c.geom if spec.geometry_type == "Point" else sa.func.ST_PointOnSurface(t.c.geom)
    district: sa.ColumnElement
    code: sa.ColumnElement
    if "district_name" in t.c:
        district, code = t.c.district_name, t.c.district_code
    elif spec is districts:
        district, code = t.c.name, t.c.code
    elif districts is not None:
        d = districts.table
        inside = sa.and_(d.c.deleted_at.is_(None), sa.func.ST_Intersects(d.c.geom, point))
        district = sa.select(d.c.name).where(inside).limit(1).scalar_subquery()
        code = sa.select(d.c.code).where(inside).limit(1).scalar_subquery()
    else:
        district, code = sa.null(), sa.null()
    population = t.c[spec.population_field] if spec.population_field else sa.null()
    return sa.select(
        sa.literal(spec.name).label("layer"),
        t.c.id,
        t.c[names[0]].label("name"),
        col("name_az").label("name_az"),
        (col("name_en") if "name_en" in t.c else t.c[names[0]]).label("name_en"),
        col("name_ru").label("name_ru"),
        sa.cast(district, sa.Text).label("district"),
        sa.cast(code, sa.Text).label("district_code"),
        sa.func.ST_X(point).label("lon"),
        sa.func.ST_Y(point).label("lat"),
        sa.func.word_similarity(folded, key).label("score"),
        exact.label("exact"),
        sa.cast(population, sa.BigInteger).label("population"),
    ).where(t.c.deleted_at.is_(None), folded.op("<%")(key))


def search(
    conn: sa.Connection,
    specs: list[LayerSpec],
    role: Role,
    text: str,
    *,
    limit: int = 20,
    districts: LayerSpec | None = None,
    district: str | None = None,
) -> list[Hit]:
    """Hits for `text` over the layers this role may read, best first."""
    query = check_query(text)
    if not 1 <= limit <= MAX_HITS:
        raise InvalidParameter(f"limit must be between 1 and {MAX_HITS}")
    folded = _fold(sa.bindparam("q", query, type_=sa.Text))
    parts = [
        part
        for spec in specs
        if spec.readable_by(role)
        and (part := _layer_select(spec, districts, role, folded)) is not None
    ]
    if not parts:
        return []
    union = sa.union_all(*parts).subquery("hits")
    stmt = sa.select(union).order_by(
        union.c.exact.desc(),
        union.c.score.desc(),
        union.c.population.desc().nulls_last(),
        union.c.layer,
        union.c.id,
    )
    if district is not None:
        wanted = _fold(sa.bindparam("district", district.strip(), type_=sa.Text))
        stmt = stmt.where(
            sa.or_(_fold(union.c.district) == wanted, _fold(union.c.district_code) == wanted)
        )
    conn.execute(
        sa.text("SELECT set_config('pg_trgm.word_similarity_threshold', :t, false)"),
        {"t": str(THRESHOLD)},
    )
    rows = conn.execute(stmt.limit(limit)).all()
    return [
        Hit(
            layer=r.layer,
            id=int(r.id),
            name=r.name,
            name_az=r.name_az,
            name_en=r.name_en,
            name_ru=r.name_ru,
            district=r.district,
            district_code=r.district_code,
            lon=float(r.lon),
            lat=float(r.lat),
            score=round(float(r.score), 4),
            exact=bool(r.exact),
            population=r.population,
        )
        for r in rows
    ]


def check_query(text: str) -> str:
    query = " ".join(text.split())
    if not query:
        raise InvalidParameter("q is empty: give a place name")
    if len(query) > MAX_QUERY_CHARS or not query.isprintable():
        raise InvalidParameter(f"q must be 1 to {MAX_QUERY_CHARS} printable characters")
    return query


def find_one(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    name: str,
    *,
    districts: LayerSpec | None = None,
    district: str | None = None,
    param: str = "village",
) -> Hit:
    """The one place of `spec` so named (any language or spelling); every candidate with its
    district when several are, so the caller can say which (`district=`)."""
    hits = search(conn, [spec], role, name, limit=MAX_HITS, districts=districts, district=district)
    exact = [h for h in hits if h.exact]
    if not hits:
        where = f" in district '{shown(district)}'" if district else ""
        raise NotFound(f"no {param} '{shown(name)}'{where}")
    candidates = exact or hits[:1]
    if len(candidates) > 1:
        listed = "; ".join(
            f"{h.id} {h.label()} ({h.district or 'no district'}, {h.district_code or '-'})"
            for h in candidates
        )
        raise InvalidParameter(
            f"{len(candidates)} {param}s are named '{shown(name)}': give district= (name or code) "
            f"or the id — {listed}"
        )
    return candidates[0]
