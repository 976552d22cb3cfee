"""The demo loads whole, validly, and a second load changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app
from demo.load import load_demo
from gis.settings import ImportSettings
from layers import REGISTRY

from .conftest import DATA, DemoTemplate


@pytest.fixture(scope="module")
def demo_engine(demo_template: DemoTemplate, demo_copy: sa.URL):
    """A copy of the loaded demo (this module loads it again), and the report of the first load."""
    engine = sa.create_engine(demo_copy)
    yield engine, demo_template.reports, demo_copy
    engine.dispose()


def test_demo_load_gives_the_expected_counts(demo_engine) -> None:
    engine, first, _ = demo_engine
    counts = {r.layer: r.inserted for r in first}
    assert counts["districts"] == 78 and counts["villages"] == 5012
    with engine.connect() as conn:
        synthetic = {
            name: conn.execute(
                sa.text(f"SELECT count(*) FROM {name} WHERE source = 'synthetic demo'")
            ).scalar_one()
            for name in ("hazard_areas", "facilities", "distributions", "outreach_sessions")
        }
        documented = conn.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT source FROM facilities UNION ALL SELECT source FROM distributions "
                "UNION ALL SELECT source FROM outreach_sessions) s WHERE source LIKE 'ICRC photo gallery%'"
            )
        ).scalar_one()
    assert synthetic["hazard_areas"] == 2500 and synthetic["outreach_sessions"] > 3500
    assert documented == 8


def test_demo_geometries_are_all_valid(demo_engine) -> None:
    engine, _, _ = demo_engine
    with engine.connect() as conn:
        for name in REGISTRY:
            invalid = conn.execute(
                sa.text(f"SELECT count(*) FROM {name} WHERE NOT ST_IsValid(geom)")
            ).scalar_one()
            assert invalid == 0, name


def test_the_demo_raster_is_written_where_the_settings_say(demo_template: DemoTemplate) -> None:
    import rasterio

    from gis.settings import DEMO_POPULATION_RASTER

    with rasterio.open(demo_template.raster_dir / DEMO_POPULATION_RASTER) as raster:
        assert raster.crs.to_epsg() == 4326 and raster.read(1).sum() > 0


def test_loading_the_demo_twice_changes_nothing(demo_engine) -> None:
    engine, _, _ = demo_engine
    again = load_demo(engine, ImportSettings(), DATA, "national")
    assert all(r.inserted == 0 and r.updated == 0 for r in again), again


def test_documented_place_missing_from_the_gazetteer_says_how_it_was_placed(demo_engine) -> None:
    engine, _, _ = demo_engine
    with engine.connect() as conn:
        notes = (
            conn.execute(
                sa.text("SELECT notes FROM facilities WHERE notes LIKE '%not in the gazetteer%'")
            )
            .scalars()
            .all()
        )
    assert len(notes) == 2 and all("Aghdam" in n for n in notes)


def test_cli_lists_the_layers_and_exports(demo_engine, tmp_path: Path) -> None:
    _, _, url = demo_engine
    env = {
        "SAFEGROUND_DATABASE_URL": url.render_as_string(hide_password=False),
        "PATH": "/usr/bin:/bin",
    }
    cli = [sys.executable, "-m", "api.cli"]
    listed = subprocess.run(
        [*cli, "layers"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "5,012" in listed and "hazard_areas" in listed
    # The rest in-process: one real `python -m api.cli` above proves the entry point, and each
    # further interpreter start costs seconds of imports.
    runner, db_env = CliRunner(), {"SAFEGROUND_DATABASE_URL": env["SAFEGROUND_DATABASE_URL"]}
    out = tmp_path / "d.gpkg"
    done = runner.invoke(
        app, ["export", "districts", "--format", "gpkg", "--out", str(out)], env=db_env
    )
    assert done.exit_code == 0 and "78 districts" in done.output
    bad = runner.invoke(
        app, ["import", "villages", str(DATA / "documented_events.csv")], env=db_env
    )
    assert bad.exit_code == 1 and "no geometry" in bad.output


def test_cli_demo_load_leaves_the_analysis_pairs_measured(demo_engine, tmp_path: Path) -> None:
    """The first coverage question after `make demo` must not measure the whole country."""
    from gis.analysis import pairs
    from gis.roles import LayerRoles
    from gis.settings import AnalysisSettings
    from layers import REGISTRY

    engine, _, url = demo_engine
    db_env = {
        "SAFEGROUND_DATABASE_URL": url.render_as_string(hide_password=False),
        "SAFEGROUND_ANALYSIS_RASTER_DIR": str(tmp_path),  # not the checkout's var/
    }
    done = CliRunner().invoke(app, ["demo", "load"], env=db_env)
    assert done.exit_code == 0, done.output
    assert "analysis pairs:" in done.output
    roles = LayerRoles.from_settings(REGISTRY, AnalysisSettings())
    with engine.begin() as conn:
        assert pairs.refresh(conn, roles.hazards, roles.places) == 0
        stored = conn.execute(sa.select(sa.func.count()).select_from(pairs.pairs_table)).scalar()
    assert stored and stored > 0
