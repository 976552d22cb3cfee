"""Built vector tiles kept in memory, per process, while their layer is unchanged.

A map asks every visitor's browser for the same few dozen tiles, and the national hazard tile
takes PostgreSQL about half a second to build. A tile is kept under everything its bytes depend
on: the layer, the caller's role and the field list (so a partner and staff never share a tile,
nor a light and a full one), the tile, and the layer's change counter (gis/layer_versions.py).

Why a kept tile is never staler than the database: the counter moves in the writing transaction
of every statement that writes the layer, so a request reads it in its own snapshot and then
looks up the tile kept under that value. A tile is kept under the counter read *before* it was
built, and a build sees at least every write that counter counts: a tile kept under N holds every
write up to N (and maybe later ones, which a later reader sees as N + 1, a miss). Writes with
triggers disabled are not seen, as for the download cache; restore, then make any app write.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

import sqlalchemy as sa

from gis import layer_versions
from gis.spec import LayerSpec

MAX_BYTES = 64 * 1024 * 1024  # per process: every tile of the national overview many times over


@dataclass
class KeptTile:
    """A tile's bytes, and their gzip once a client has asked for it (made once, kept beside)."""

    body: bytes
    _gzipped: dict[int, bytes] = field(default_factory=dict)
    _digest: bytes | None = None

    @property
    def digest(self) -> bytes:
        """The body's SHA-1, made once: what the tile's ETag is made from."""
        if self._digest is None:
            self._digest = hashlib.sha1(self.body, usedforsecurity=False).digest()
        return self._digest

    def gzipped(self, level: int) -> bytes:
        found = self._gzipped.get(level)
        if found is None:  # two threads may both make it: the same bytes, one kept
            found = self._gzipped[level] = gzip.compress(self.body, level)
        return found


class TileCache:
    """Least recently used tiles, up to `max_bytes` of tile bytes (their gzip, smaller, is kept
    beside and not counted); safe across threads."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[Hashable, KeptTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def tile(
        self, conn: sa.Connection, spec: LayerSpec, key: Hashable, build: Callable[[], bytes]
    ) -> KeptTile:
        """The tile under `key` (what else its bytes depend on) at the layer's current counter,
        built by `build` on `conn` when none is kept."""
        if self.max_bytes <= 0:
            return KeptTile(build())
        version = layer_versions.counter(conn, spec.table.name)
        full = (spec.name, version, key)
        with self._lock:
            found = self._tiles.get(full)
            if found is not None:
                self._tiles.move_to_end(full)
                self.hits += 1
                return found
            self.misses += 1
        made = KeptTile(build())
        if len(made.body) <= self.max_bytes:
            with self._lock:
                if full not in self._tiles:
                    self._tiles[full] = made
                    self._bytes += len(made.body)
                while self._bytes > self.max_bytes:
                    _, dropped = self._tiles.popitem(last=False)
                    self._bytes -= len(dropped.body)
        return made

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
            self._bytes = 0
