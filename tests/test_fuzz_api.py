"""The whole OpenAPI document fuzzed by schemathesis: no input gives a 5xx.

Every operation the document declares (each public layer's items with its property filters, the
writes, imports, analyses and maps) gets FUZZ_EXAMPLES generated requests, sent as an admin so
they reach past the access checks, against a throw-away database seeded with a few features.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
import shapely
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from api.app import create_app
from gis.access import create_key
from gis.settings import AnalysisSettings, ApiSettings, DatabaseSettings, Settings
from gis.spec import Role
from layers import migrations

from .conftest import create_database, drop_database
from .test_analysis_geo import add, blob, box_north_of, moved

FUZZ_EXAMPLES = 110  # per operation; some have fewer distinct inputs: above 2,000 in all
MIN_CASES = 2_000
V = (46.90, 40.00)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[tuple[FastAPI, str]]:
    url = create_database("safeground_fuzz")
    engine = sa.create_engine(url)
    migrations.upgrade(engine)
    with engine.begin() as conn:
        add(conn, "districts", blob(*V, 10_000.0, vertices=24), name="Aghdam", code="AZ.AM")
        add(conn, "villages", shapely.Point(V), name="Uncovered", population=800)
        add(conn, "villages", shapely.Point(moved(*V, 90.0, 4000.0)), name="Covered")
        add(conn, "hazard_areas", box_north_of(*V, 600.0), name="SHA 1")
        add(conn, "outreach_sessions", shapely.Point(moved(*V, 90.0, 4200.0)), held_on="2025-05-05")
        add(conn, "facilities", shapely.Point(moved(*V, 45.0, 900.0)), name="School 1")
        key = create_key(conn, "fuzzer", Role.admin)
    engine.dispose()
    settings = Settings(
        database=DatabaseSettings(url=url.render_as_string(hide_password=False)),
        api=ApiSettings(key_cache_seconds=60, heavy_per_key=50, heavy_concurrency=50),
        analysis=AnalysisSettings(rasters={}),
    )
    app = create_app(settings)
    try:
        yield app, key
    finally:
        app.state.engine.dispose()
        drop_database(url)


def test_no_generated_request_gets_a_server_error(fuzzed: tuple[FastAPI, str]) -> None:
    app, key = fuzzed
    schema = schemathesis.openapi.from_asgi("/api", app)
    cases = 0
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case: schemathesis.Case) -> None:
            nonlocal cases
            cases += 1
            # The header wins over a generated api_key, so every case is served as the admin.
            response = case.call(headers={"X-API-Key": key})
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except FailureGroup as exc:  # collected, so one run reports every failing operation
                failures.append(f"{operation.label}: {response.status_code} {exc}"[:500])

        run()
    assert not failures, "\n".join(failures[:20])
    assert cases >= MIN_CASES
    print(f"schemathesis: {cases} cases over the whole OpenAPI document, no 5xx")
