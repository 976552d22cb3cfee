"""The deployment files keep their promises: migrations run once, state has its own volume, and
the image installs exactly what its lock pins (requirements.lock less the test extras). (No container runtime runs in CI; these
read the files as Docker would, `docker compose config` aside.)"""

from __future__ import annotations

import tomllib
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
    assert "COPY requirements-runtime.lock ./" in DOCKERFILE
    assert "pip install --require-hashes --no-deps -r requirements-runtime.lock" in DOCKERFILE
    assert "pip install --no-deps --no-build-isolation ." in DOCKERFILE
    commands = [line for line in DOCKERFILE.splitlines() if not line.startswith("#")]
    assert not any("requirements.lock" in line for line in commands)  # not the test extras
    assert "pyproject.toml', 'rb'))['project']['dependencies']" not in DOCKERFILE


def _pins(lock: str) -> dict[str, str]:
    """name -> version of a uv lock file, each pin checked to carry at least one hash."""
    text = (ROOT / lock).read_text().replace("\\\n", " ")
    pins: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            name, _, rest = line.partition("==")
            version = rest.split()[0]
            assert "--hash=sha256:" in rest, f"{lock}: {name} has no hash"
            pins[name.lower()] = version
    return pins


def test_the_runtime_lock_is_the_full_lock_without_the_test_extras() -> None:
    full, runtime = _pins("requirements.lock"), _pins("requirements-runtime.lock")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert {n: v for n, v in runtime.items() if full.get(n) != v} == {}  # the same versions
    for pin in project["project"]["optional-dependencies"]["test"]:
        name = pin.split("==")[0].split("[")[0].lower()
        assert name in full and name not in runtime, name
    for pin in project["project"]["dependencies"]:
        name, version = pin.split("[")[0].split("==")[0].lower(), pin.split("==")[1]
        assert runtime[name] == version, name


def test_the_build_backend_is_pinned_and_locked_for_the_image() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (backend,) = project["build-system"]["requires"]
    name, _, version = backend.partition("==")
    assert name == "setuptools" and version
    assert _pins("requirements-runtime.lock")["setuptools"] == version
