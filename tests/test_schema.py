"""The layer registry matches the live schema the migrations build."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from gis.spec import metadata
from layers import REGISTRY, migrations

from .conftest import create_database, drop_database


@pytest.mark.parametrize("name", list(REGISTRY))
def test_spec_columns_exist_in_live_table(conn: sa.Connection, name: str) -> None:
    spec = REGISTRY[name]
    live = {c["name"]: c for c in sa.inspect(conn).get_columns(name)}
    assert set(spec.table.c.keys()) == set(live)
    for field in spec.output_fields:
        assert field in live, f"{name}.{field} is declared but missing from the table"
    for column in spec.table.c:
        declared = column.type.compile(dialect=conn.dialect).split("(")[0]
        actual = live[column.name]["type"].compile(dialect=conn.dialect).split("(")[0]
        assert declared == actual, f"{name}.{column.name}: declared {declared}, live {actual}"
        assert column.nullable == live[column.name]["nullable"], f"{name}.{column.name} nullability"


@pytest.fixture(scope="module")
def from_specs() -> Iterator[sa.Engine]:
    """A database built straight from the specs' metadata (no migration), to compare with."""
    url = create_database("safeground_specs")
    engine = sa.create_engine(url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop_database(url)


CHECKS = """
SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid WHERE t.relname = :t AND c.contype = 'c'
"""
INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t"


def _defs(engine: sa.Engine, sql: str, table: str) -> dict[str, str]:
    with engine.connect() as conn:
        return {r[0]: r[1] for r in conn.execute(sa.text(sql), {"t": table})}


@pytest.mark.parametrize("table", sorted(metadata.tables))
def test_migrated_check_constraints_and_indexes_match_the_specs_definitions(
    engine: sa.Engine, from_specs: sa.Engine, table: str
) -> None:
    # PostgreSQL itself normalises both sides (IN lists, casts, parentheses), so the definitions
    # compare as text: a migration whose CHECK or index differs from its spec fails here.
    assert _defs(engine, CHECKS, table) == _defs(from_specs, CHECKS, table)
    assert _defs(engine, INDEXES, table) == _defs(from_specs, INDEXES, table)


def test_autogenerate_proposes_nothing_on_a_freshly_migrated_database(engine: sa.Engine) -> None:
    assert {"api_keys", "audit_log", "import_batches", *REGISTRY} <= set(metadata.tables)
    with engine.connect() as conn:
        assert migrations.differences(conn) == []


def test_db_check_command_reports_a_matching_schema(settings) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    result = CliRunner().invoke(
        app, ["db", "check"], env={"SAFEGROUND_DATABASE_URL": settings.database.url}
    )
    assert result.exit_code == 0 and "matches the layer specs" in result.output


def test_autogenerate_would_notice_a_column_the_migrations_lack(engine: sa.Engine) -> None:
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("ALTER TABLE facilities DROP COLUMN works_done")
        found = migrations.differences(conn)
        conn.rollback()
    assert [d[0] for d in found] == ["add_column"] and found[0][3].name == "works_done"


@pytest.mark.parametrize("name", list(REGISTRY))
def test_geometry_column_has_declared_type_and_srid_4326(conn: sa.Connection, name: str) -> None:
    spec = REGISTRY[name]
    row = conn.execute(
        sa.text(
            "SELECT type, srid FROM geometry_columns WHERE f_table_name = :t AND f_geometry_column = 'geom'"
        ),
        {"t": name},
    ).one()
    assert row.srid == 4326
    assert row.type == spec.geometry_type.upper()


@pytest.mark.parametrize("name", list(REGISTRY))
def test_gist_indexes_on_geometry_and_geography(conn: sa.Connection, name: str) -> None:
    defs = (
        conn.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"), {"t": name})
        .scalars()
        .all()
    )
    gist = [d for d in defs if "USING gist" in d]
    assert any(d.endswith("(geom)") for d in gist), gist
    assert any("geography(geom)" in d for d in gist), gist


@pytest.mark.parametrize("name", list(REGISTRY))
def test_temporal_and_queryable_fields_are_columns(name: str) -> None:
    spec = REGISTRY[name]
    for field in (
        spec.temporal_field,
        *spec.queryable_fields,
        *spec.popup_fields,
        *spec.restricted_fields,
    ):
        if field is not None:
            assert field in spec.table.c, f"{name}: '{field}' is not a column"


def test_geography_query_uses_the_geography_index(conn: sa.Connection) -> None:
    from gis.spec import geography

    t = REGISTRY["villages"].table
    point = sa.func.geography(sa.func.ST_SetSRID(sa.func.ST_MakePoint(47.0, 40.0), 4326))
    query = sa.select(t.c.id).where(sa.func.ST_DWithin(geography(t.c.geom), point, 1000))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            sa.text("EXPLAIN " + str(query.compile(compile_kwargs={"literal_binds": True})))
        )
    )
    assert "villages_geog_gist" in plan, plan


def test_hazard_area_m2_is_computed_geodesically_by_the_database(conn: sa.Connection) -> None:
    from pyproj import Geod

    wkt = "MULTIPOLYGON(((47 40,47.01 40,47.01 40.01,47 40.01,47 40)))"
    area = conn.execute(
        sa.text(
            "INSERT INTO hazard_areas (external_id, source, geom, hazard_type, status, recorded_on) "
            "VALUES ('t1', 'test', ST_GeomFromText(:w, 4326), 'AP_mine', 'confirmed', '2024-01-01') "
            "RETURNING area_m2"
        ),
        {"w": wkt},
    ).scalar_one()
    expected, _ = Geod(ellps="WGS84").polygon_area_perimeter(
        [47, 47.01, 47.01, 47], [40, 40, 40.01, 40.01]
    )
    assert area == pytest.approx(abs(expected), rel=1e-6)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO facilities (external_id, source, geom, facility_type, name) VALUES ('x', 's', ST_GeomFromText('POINT(47 40)', 4326), 'castle', 'n')",
        "INSERT INTO facilities (external_id, source, geom, facility_type, name, capacity) VALUES ('x', 's', ST_GeomFromText('POINT(47 40)', 4326), 'school', 'n', -1)",
        "INSERT INTO facilities (external_id, source, geom, facility_type, name) VALUES ('x', 's', ST_GeomFromText('POINT(47 40)', 3857), 'school', 'n')",
        "INSERT INTO hazard_areas (external_id, source, geom, hazard_type, status, recorded_on) VALUES ('x', 's', ST_GeomFromText('MULTIPOLYGON(((47 40,47.1 40.1,47.1 40,47 40.1,47 40)))', 4326), 'IED', 'confirmed', '2024-01-01')",
        "INSERT INTO villages (external_id, source, geom, name) VALUES ('x', 's', ST_GeomFromText('POINT(200 40)', 4326), 'n')",
    ],
    ids=["unknown-enum", "negative-count", "wrong-srid", "self-intersecting", "lon-out-of-range"],
)
def test_database_constraints_refuse_bad_rows(conn: sa.Connection, sql: str) -> None:
    with pytest.raises(sa.exc.DBAPIError), conn.begin_nested():
        conn.exec_driver_sql(sql)


def test_migrations_upgrade_from_empty_and_downgrade_cleanly() -> None:
    url = create_database("safeground_migrate")
    engine = sa.create_engine(url)
    try:
        migrations.upgrade(engine)
        assert set(REGISTRY) <= set(sa.inspect(engine).get_table_names())
        migrations.downgrade(engine, "base")
        left = set(sa.inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
        assert left == set()
        migrations.upgrade(engine)
        assert set(REGISTRY) <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
        drop_database(url)
