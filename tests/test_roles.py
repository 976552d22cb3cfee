"""Layer roles: declared once by the settings, checked at startup, and one district lookup for the
maps and the analyses."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from gis.access import create_key
from gis.errors import ConfigurationError
from gis.roles import LayerRoles
from gis.settings import AnalysisSettings, Settings
from gis.spec import Role
from layers import REGISTRY
from tests.browser.records import insert, point, square

from .ogc_support import Demo, demo_client_fixture, demo_fixture, headers  # noqa: F401


def test_default_roles_name_the_layers_that_play_them() -> None:
    roles = LayerRoles.defaults(REGISTRY)
    assert (roles.hazards.name, roles.areas.name, roles.places.name) == (
        "hazard_areas",
        "districts",
        "villages",
    )
    assert (roles.activities.name, roles.facilities.name) == ("outreach_sessions", "facilities")
    assert roles.areas.code_field == "code"


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("hazard_layer", "minefields", "SAFEGROUND_ANALYSIS_HAZARD_LAYER names 'minefields'"),
        ("hazard_layer", "villages", "'villages' is a Point layer; the dangers must be a Multi"),
        ("area_layer", "villages", "SAFEGROUND_ANALYSIS_AREA_LAYER='villages' is a Point layer"),
        ("place_layer", "districts", "'districts' is a MultiPolygon layer"),
        ("activity_layer", "sessions", "ACTIVITY_LAYER names 'sessions', which is not a layer"),
        ("facility_layer", "schools", "FACILITY_LAYER names 'schools'"),
        ("route_context_layers", ("roads",), "ROUTE_CONTEXT_LAYERS names 'roads'"),
    ],
)
def test_a_setting_naming_a_missing_or_wrong_layer_stops_the_app_at_startup(
    settings: Settings, setting: str, value: object, says: str
) -> None:
    wrong = settings.model_copy(
        update={"analysis": AnalysisSettings.model_construct(**{setting: value})}
    )
    with pytest.raises(ConfigurationError, match=says.replace("(", r"\(")):
        create_app(wrong)


def test_the_cli_refuses_to_start_with_a_wrong_layer_role(monkeypatch) -> None:
    monkeypatch.setenv("SAFEGROUND_ANALYSIS_HAZARD_LAYER", "facilities")
    result = CliRunner().invoke(cli, ["layers"])
    assert result.exit_code == 1
    assert "SAFEGROUND_ANALYSIS_HAZARD_LAYER='facilities' is a Point layer" in result.output


@pytest.fixture
def twin_districts(settings, committed):
    """Two districts both named Shusha (a rayon and a city, as in the real gazetteer)."""
    with committed.begin() as conn:
        insert(conn, "districts", square(46.0, 39.0, 0.5), name="Shusha", code="AZ.SUS")
        insert(conn, "districts", square(46.6, 39.0, 0.1), name="Shusha", code="AZ.SS")
        insert(conn, "villages", point(46.2, 39.2), name="Hilltop", district_name="Shusha")
        key = create_key(conn, "roles tests", Role.partner)
    with TestClient(create_app(settings)) as client:
        client.headers["X-API-Key"] = key
        yield client


AMBIGUOUS = "district 'shusha' is ambiguous: Shusha (AZ.SS), Shusha (AZ.SUS); give the code"


@pytest.mark.parametrize("route", ["/maps/overview", "/analysis/coverage", "/maps/coverage"])
def test_an_ambiguous_district_is_refused_alike_by_maps_and_analyses(twin_districts, route) -> None:
    response = twin_districts.get(route, params={"district": "shusha"})
    assert response.status_code == 400
    assert AMBIGUOUS in response.json()["description"]


def test_a_district_code_picks_one_of_two_namesakes(twin_districts) -> None:
    page = twin_districts.get("/maps/overview", params={"district": "az.ss"})
    assert page.status_code == 200 and "Shusha (AZ.SS)" in page.text
    answer = twin_districts.get("/analysis/coverage", params={"district": "AZ.SUS"})
    assert answer.status_code == 200
    assert answer.json()["parameters"]["district"] == "Shusha (AZ.SUS)"


@pytest.mark.parametrize("route", ["/maps/overview", "/analysis/coverage"])
def test_the_real_shusha_is_ambiguous_on_both_routes(demo: Demo, demo_client, route) -> None:
    """The national gazetteer holds Shusha the rayon (AZ.SU) and Shusha the city (AZ.SS)."""
    response = demo_client.get(
        route, params={"district": "Shusha"}, headers=headers(demo, Role.partner)
    )
    assert response.status_code == 400
    assert response.json()["description"] == (
        "district 'Shusha' is ambiguous: Shusha (AZ.SS), Shusha (AZ.SU); give the code"
    )


def test_roles_are_built_once_per_settings_and_the_app_answers_without_building_them(
    settings: Settings, committed, monkeypatch
) -> None:
    builds: list[AnalysisSettings] = []
    build = LayerRoles.from_settings.__func__  # type: ignore[attr-defined]

    def counting(cls: type[LayerRoles], registry, analysis: AnalysisSettings) -> LayerRoles:
        builds.append(analysis)
        return build(cls, registry, analysis)

    monkeypatch.setattr(LayerRoles, "from_settings", classmethod(counting))
    mine = settings.model_copy(update={"analysis": AnalysisSettings(rasters={})})
    app = create_app(mine)
    assert builds == [mine.analysis] and app.state.roles is LayerRoles.of(REGISTRY, mine.analysis)
    with committed.begin() as conn:
        key = create_key(conn, "roles once", Role.partner)
    with TestClient(app) as client:
        for route, params in [
            ("/analysis/exposure", {}),
            ("/analysis/exposure", {"within_m": 500}),
            ("/analysis/coverage", {}),
            ("/analysis/nearest", {"layer": "villages", "lon": 47.0, "lat": 40.0}),
        ]:
            response = client.get(route, params=params, headers={"X-API-Key": key})
            assert response.status_code == 200, response.text
    assert builds == [mine.analysis]  # not one more, whatever the routes asked
    other = AnalysisSettings(rasters={})  # equal values, another settings object: its own roles
    assert LayerRoles.of(REGISTRY, other) is LayerRoles.of(REGISTRY, other)
    assert len(builds) == 2 and builds[1] is other
