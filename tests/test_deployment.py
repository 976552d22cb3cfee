"""The deployment files keep their promises: migrations run once, state has its own volume, and
the image installs exactly what requirements.lock pins. (No container runtime runs in CI; these
read the files as Docker would, `docker compose config` aside.)"""

from __future__ import annotations

from pathlib import Path

import yaml

from gis.settings import AnalysisSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _env(lines: str, name: str) -> str:
    return next(w.split("=", 1)[1] for w in lines.split() if w.startswith(f"{name}="))


def test_migrations_run_once_in_their_own_service_before_the_api() -> None:
    services = COMPOSE["services"]
    assert services["migrate"]["command"] == ["safeground", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    api = services["api"]
    assert api["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert "command" not in api and "db upgrade" not in DOCKERFILE.split("CMD")[-1]


def test_writable_state_lives_on_a_volume_the_raster_setting_points_into() -> None:
    for name in ("api", "migrate"):
        service = COMPOSE["services"][name]
        mounts = dict(v.split(":")[::-1] for v in service["volumes"])
        raster_dir = Path(service["environment"]["SAFEGROUND_ANALYSIS_RASTER_DIR"])
        state = Path(next(m for m in mounts if raster_dir.is_relative_to(m)))
        assert mounts[str(state)] in COMPOSE["volumes"] and state != Path("/app")
    assert _env(DOCKERFILE, "SAFEGROUND_ANALYSIS_RASTER_DIR") == str(raster_dir)
    assert AnalysisSettings.model_fields["raster_dir"].default == Path("var/rasters")


def test_the_image_installs_the_lock_file_with_hashes_and_the_package_without_resolving() -> None:
    assert "COPY requirements.lock ./" in DOCKERFILE
    assert "pip install --require-hashes --no-deps -r requirements.lock" in DOCKERFILE
    assert "pip install --no-deps ." in DOCKERFILE
    assert "pyproject.toml', 'rb'))['project']['dependencies']" not in DOCKERFILE
