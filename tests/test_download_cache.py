"""Whole-layer files are built once and served by byte ranges to clients that read one URL
(geopandas through GDAL's /vsicurl/), fresh after any write, never shared between roles, and
audited once per read."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
import sqlalchemy as sa

import api.routes.ogc.items as items_route
from api.app import create_app
from gis.access import create_key
from gis.settings import DownloadSettings
from gis.spec import Role
from layers import REGISTRY

from .conftest import settings_for
from .serving import serving


@dataclass
class Served:
    base: str
    engine: sa.Engine
    keys: dict[Role, str]
    builds: list[str]  # the formats of the exports built, in order


@pytest.fixture(scope="module")
def served(demo_copy: sa.URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A live server on a writable copy of the demo, with its own download cache folder."""
    settings = settings_for(demo_copy).model_copy(
        update={"downloads": DownloadSettings(cache_dir=tmp_path_factory.mktemp("downloads"))}
    )
    app = create_app(settings)
    engine = app.state.engine
    with engine.begin() as conn:
        keys = {role: create_key(conn, f"cache {role.name}", role) for role in (Role.partner, Role.staff)}  # fmt: skip
    builds: list[str] = []
    export = items_route.export

    def counted(conn, q, kind, **options):  # type: ignore[no-untyped-def]
        builds.append(kind)
        return export(conn, q, kind, **options)

    items_route.export = counted  # type: ignore[assignment]
    try:
        with serving(app) as base:
            yield Served(base, engine, keys, builds)
    finally:
        items_route.export = export  # type: ignore[assignment]
    engine.dispose()


def read_file(url: str) -> int:
    """geopandas.read_file(url) in a process of its own, as a partner's script runs it (GDAL's
    /vsicurl/ blocks the interpreter it runs in, so it cannot read from this process's server)."""
    code = "import sys, geopandas; print(len(geopandas.read_file(sys.argv[1])))"
    done = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return int(done.stdout)


def _live(engine: sa.Engine, layer: str) -> int:
    with engine.connect() as conn:
        sql = f"SELECT count(*) FROM {layer} WHERE deleted_at IS NULL"
        return int(conn.execute(sa.text(sql)).scalar_one())


def _audits(engine: sa.Engine, action: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT detail FROM audit_log WHERE action = :a ORDER BY id"),
                            {"a": action})  # fmt: skip
        return [row.detail for row in rows]


@pytest.mark.parametrize("fmt", ["fgb", "gpkg"])
def test_geopandas_reads_the_file_url_built_once_and_fresh_after_a_write(
    served: Served, fmt: str
) -> None:
    url = f"{served.base}/collections/villages/items?f={fmt}&limit=all"
    before = len(served.builds)
    audits = len(_audits(served.engine, f"export_{fmt}"))
    first = read_file(url)
    assert first == _live(served.engine, "villages") > 5000
    assert read_file(url) == first
    assert served.builds[before:] == [fmt]  # many range requests, two reads, one build
    logged = _audits(served.engine, f"export_{fmt}")[audits:]
    # One row: the first read's probe built the file; its ranges, and the read that followed at
    # once, are the same caller reading the same file.
    assert [(d["cached"], d.get("range")) for d in logged] == [(False, "bytes=0-1")]
    with served.engine.begin() as conn:
        conn.execute(sa.text("UPDATE villages SET deleted_at = now(), updated_at = now() "
                             "WHERE id = (SELECT min(id) FROM villages WHERE deleted_at IS NULL)"))  # fmt: skip
    assert read_file(url) == first - 1 == _live(served.engine, "villages")
    assert served.builds[before:] == [fmt, fmt]


def test_byte_ranges_lengths_and_if_range(served: Served) -> None:
    url = f"{served.base}/collections/districts/items?f=fgb&limit=all"
    whole = httpx.get(url, timeout=60)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    size, etag = len(whole.content), whole.headers["etag"]
    assert int(whole.headers["content-length"]) == size and not etag.startswith("W/")
    part = httpx.get(url, headers={"Range": "bytes=100-299"}, timeout=60)
    assert part.status_code == 206 and part.content == whole.content[100:300]
    assert part.headers["content-range"] == f"bytes 100-299/{size}"
    assert part.headers["content-length"] == "200" and part.headers["etag"] == etag
    same = httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": etag}, timeout=60)
    assert same.status_code == 206 and same.content == whole.content[:10]
    changed = httpx.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'}, timeout=60)
    assert changed.status_code == 200 and changed.content == whole.content
    beyond = httpx.get(url, headers={"Range": f"bytes={size}-"}, timeout=60)
    assert beyond.status_code == 416


def test_head_answers_the_file_length_and_logs_no_read(served: Served) -> None:
    url = f"{served.base}/collections/villages/items?f=gpkg&limit=all"
    audits = len(_audits(served.engine, "export_gpkg")) + len(_audits(served.engine, "export_json"))
    head = httpx.head(url, timeout=60)
    whole = httpx.get(url, timeout=60)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(whole.content)
    assert head.headers["etag"] == whole.headers["etag"]
    streamed = httpx.head(url.replace("f=gpkg", "f=json"), timeout=60)
    assert streamed.status_code == 200 and streamed.content == b""
    logged = _audits(served.engine, "export_gpkg") + _audits(served.engine, "export_json")
    assert len(logged) == audits + 1  # the GET alone


def test_a_later_range_is_audited_only_when_its_read_was_not(served: Served) -> None:
    url = f"{served.base}/collections/facilities/items?f=gpkg&limit=all"
    partner = {"X-API-Key": served.keys[Role.partner]}
    staff = {"X-API-Key": served.keys[Role.staff]}
    audits = len(_audits(served.engine, "export_gpkg"))
    httpx.get(url, headers={**partner, "Range": "bytes=0-1023"}, timeout=60)
    httpx.get(url, headers={**partner, "Range": "bytes=1024-2047"}, timeout=60)
    httpx.get(url, headers={**staff, "Range": "bytes=1024-2047"}, timeout=60)  # skips byte 0
    logged = _audits(served.engine, "export_gpkg")[audits:]
    assert [d["range"] for d in logged] == ["bytes=0-1023", "bytes=1024-2047"]


def test_roles_that_see_different_fields_never_share_a_file(served: Served) -> None:
    url = f"{served.base}/collections/hazard_areas/items?f=fgb&limit=all"
    spec = REGISTRY["hazard_areas"]
    hidden = set(spec.visible_fields(Role.staff)) - set(spec.visible_fields(Role.partner))
    assert hidden
    before = len(served.builds)
    files = {}
    for role in (Role.staff, Role.partner, Role.staff, Role.partner):
        response = httpx.get(url, headers={"X-API-Key": served.keys[role]}, timeout=60)
        assert response.status_code == 200
        frame = gpd.read_file(io.BytesIO(response.content))
        files.setdefault(role, (response.headers["etag"], set(frame.columns)))
        assert files[role][0] == response.headers["etag"]  # the role's own file, kept
    assert files[Role.staff][0] != files[Role.partner][0]
    assert hidden <= files[Role.staff][1] and not hidden & files[Role.partner][1]
    assert len(served.builds) - before == 2


def test_every_layer_counts_its_writes(served: Served) -> None:
    with served.engine.connect() as conn, conn.begin() as transaction:
        for name, spec in REGISTRY.items():
            table = spec.table.name
            version = sa.text("SELECT coalesce((SELECT version FROM layer_versions "
                              "WHERE layer = :t), 0)").bindparams(t=table)  # fmt: skip
            before = conn.execute(version).scalar_one()
            conn.execute(sa.text(f"UPDATE {table} SET updated_at = updated_at WHERE false"))
            assert conn.execute(version).scalar_one() == before + 1, name
        transaction.rollback()


def test_a_cache_of_zero_megabytes_keeps_nothing(tmp_path: Path) -> None:
    from gis.download_cache import DownloadCache

    cache = DownloadCache(tmp_path, max_mb=0, max_age_s=60)
    found = cache.fetch("k" * 64, lambda path: path.write_bytes(b"x" * 10) and 3)
    assert (found.rows, found.size, found.path.read_bytes()) == (3, 10, b"x" * 10)
    assert list(tmp_path.glob("*.file")) == []  # served from its own link, then gone
    found.release()
    assert not found.path.exists()
