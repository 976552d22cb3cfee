"""Built whole-layer files kept on disk for a short while, so that a client reading one download
URL by byte ranges (GDAL's /vsicurl/, as geopandas and QGIS do) does not rebuild it per range.

A file is found by a key over everything that decides its bytes: the layer, format, the caller's
role and visible fields, every query parameter, and the layer's change counter (migration 0009),
read before the file is built, so a cached file is never older than the version it is filed
under and any committed write makes the next download fresh. Roles never share a file. Files
expire after `max_age_s` and the oldest go when the folder outgrows `max_mb`. Each answer serves
its own hard link of the file, so an eviction by another process cannot cut a response short.
The folder is a cache, not state: every process (and replica) may keep its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import orjson
import sqlalchemy as sa

from gis import layer_versions
from gis.access import audit_log
from gis.query import ItemsQuery

FILES = "*.file"
# Byte ranges of one file asked by one caller within this long of its last logged one are one
# read: geopandas probes bytes 0-1, then GDAL asks for the header at 0 and the rest in pieces.
READ_WINDOW_S = 60.0
STALE_LINK_S = 24 * 3600  # a serving link left by a process that died mid-answer


@dataclasses.dataclass(frozen=True)
class CachedFile:
    """One answer's file: `path` is its own link, to remove once sent (`release`)."""

    path: Path
    etag: str  # strong: one build of one key, byte for byte
    size: int
    rows: int
    built: bool  # this request built it

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def data_versions(conn: sa.Connection, q: ItemsQuery) -> dict[str, object]:
    """Which database, and the change counters of the layers the answer reads (its own and the
    district's): a database made anew (as the tests do) has a new oid, whatever its name."""
    database = conn.execute(
        sa.text("SELECT oid FROM pg_database WHERE datname = current_database()")
    ).scalar_one()
    names = [q.spec.table.name]
    if q.district is not None:
        names.append(q.district.layer.table.name)
    url = conn.engine.url
    return {
        "database": [url.host, url.port, url.database, int(database)],
        **layer_versions.counters(conn, names),
    }


def cache_key(
    q: ItemsQuery, fmt: str, role: str, versions: dict[str, object], **options: object
) -> str:
    parts = {
        "app": version("safeground"),
        "layer": q.spec.name,
        "format": fmt,
        "role": role,
        "fields": list(q.fields),
        "query": q.describe(),
        "versions": versions,
        "options": options,
    }
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def audited_since(conn: sa.Connection, actor: str, action: str, etag: str, seconds: float) -> bool:
    """Whether this caller's download of this very file was logged in the last `seconds`."""
    query = sa.select(audit_log.c.id).where(
        audit_log.c.at > sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, seconds),
        audit_log.c.actor == actor,
        audit_log.c.action == action,
        audit_log.c.detail["etag"].astext == etag,
    )
    return conn.execute(query.limit(1)).first() is not None


class DownloadCache:
    def __init__(self, directory: Path, max_mb: float, max_age_s: float) -> None:
        self.directory = directory
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.max_age_s = max_age_s

    def fetch(self, key: str, build: Callable[[Path], int]) -> CachedFile:
        """The file of `key`, built by `build(path)` (which returns its row count) unless a fresh
        one is kept. One process builds a key at a time; the others wait for its file."""
        serving = self.directory / "serving"
        serving.mkdir(parents=True, exist_ok=True)
        with self._locked(key):
            found, built = self._fresh(key), False
            if found is None:
                found, built = self._build(key, build), True
            link = serving / f"{secrets.token_hex(8)}-{found.name}"
            os.link(found, link)
            size = found.stat().st_size
            if built:
                self._evict(keep=found)
        _, token, rows, _ = found.name.split(".")
        return CachedFile(link, f'"{key[:32]}-{token}"', size, int(rows), built)

    def _fresh(self, key: str) -> Path | None:
        for path in self.directory.glob(f"{key}.*.file"):
            if time.time() - path.stat().st_mtime < self.max_age_s:
                return path
            path.unlink(missing_ok=True)
        return None

    def _build(self, key: str, build: Callable[[Path], int]) -> Path:
        partial = self.directory / f"{key}.{secrets.token_hex(4)}.partial"
        try:
            rows = build(partial)
            final = self.directory / f"{key}.{secrets.token_hex(6)}.{rows}.file"
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        return final

    def _evict(self, keep: Path) -> None:
        """Oldest first until the folder fits; a file larger than the whole bound is not kept."""
        files = sorted(
            ((p.stat(), p) for p in self.directory.glob(FILES) if p.exists()),
            key=lambda item: item[0].st_mtime,
        )
        total = sum(stat.st_size for stat, _ in files)
        for stat, path in files:
            if total <= self.max_bytes:
                break
            if path != keep or stat.st_size > self.max_bytes:
                path.unlink(missing_ok=True)
                total -= stat.st_size
        now = time.time()
        leftovers = [*(self.directory / "serving").iterdir(), *self.directory.glob("*.partial")]
        for path in leftovers:  # from a process that died mid-answer or mid-build
            with contextlib.suppress(FileNotFoundError):
                if now - path.stat().st_ctime > STALE_LINK_S:
                    path.unlink()
        for lock in self.directory.glob("*.lock"):
            key = lock.name.removesuffix(".lock")
            with contextlib.suppress(FileNotFoundError):
                stale = now - lock.stat().st_mtime > self.max_age_s
                if stale and not any(self.directory.glob(f"{key}.*.file")):
                    lock.unlink()

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        # flock: across the server's worker processes and threads alike (one open file each).
        with (self.directory / f"{key}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
