"""Built vector tiles kept in memory, per process, while their layer is unchanged.

A map asks every visitor's browser for the same few dozen tiles, and the national hazard tile
takes PostgreSQL about a fifth of a second to build. A tile is kept under everything its bytes
depend on: the layer, the caller's role and the field list (so a partner and staff never share a
tile, nor a light and a full one) and the tile, with the layer's change counter
(gis/layer_versions.py) it was built at.

Why a kept tile is never staler than the database: the counter moves in the writing transaction
of every statement that writes the layer. Each request runs one statement (gis/tiles.py,
`counted_tile`) that reads the counter and, unless it equals the kept tile's, builds the tile, in
the same snapshot: a tile built at N holds exactly the writes N counts, and a kept tile is served
only to a statement that sees the counter still at N, so no write it cannot see. Writes with
triggers disabled are not seen, as for the download cache; restore, then make any app write.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from gis.spec import LayerSpec

MAX_BYTES = 64 * 1024 * 1024  # per process: every tile of the national overview many times over


@dataclass
class KeptTile:
    """A tile's bytes at a counter of its layer, and their gzip once a client has asked for it
    (made once, kept beside)."""

    body: bytes
    version: int
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


# Given the counter of the tile kept (None: none), the layer's counter now and the tile's bytes,
# unless the counter is the kept one (then None): gis/tiles.py's `counted_tile`.
Fetch = Callable[[int | None], tuple[int, bytes | None]]


class TileCache:
    """Least recently used tiles, up to `max_bytes` of tile bytes (their gzip, smaller, is kept
    beside and not counted), the latest built of each; safe across threads."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[Hashable, KeptTile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def tile(self, spec: LayerSpec, key: Hashable, fetch: Fetch) -> KeptTile:
        """The tile under `key` (what else its bytes depend on): the kept one while the layer's
        counter stands where it was built, else built by `fetch` in the same statement."""
        if self.max_bytes <= 0:
            return _built(fetch(None))
        full = (spec.name, key)
        with self._lock:
            held = self._tiles.get(full)
        fetched = fetch(None if held is None else held.version)
        if fetched[1] is None and held is not None:  # the counter stands where `held` was built
            with self._lock:
                if full in self._tiles:
                    self._tiles.move_to_end(full)
                self.hits += 1
            return held  # right even if dropped meanwhile
        made = _built(fetched)
        with self._lock:
            self.misses += 1
            current = self._tiles.get(full)
            fits = len(made.body) <= self.max_bytes
            if fits and (current is None or current.version <= made.version):
                if current is not None:
                    self._bytes -= len(current.body)
                self._tiles[full] = made
                self._tiles.move_to_end(full)
                self._bytes += len(made.body)
            while self._bytes > self.max_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped.body)
        return made

    def clear(self) -> None:
        with self._lock:
            self._tiles.clear()
            self._bytes = 0


def _built(fetched: tuple[int, bytes | None]) -> KeptTile:
    version, body = fetched
    if body is None:  # `counted_tile` builds whenever it is not given the counter it reads
        raise RuntimeError("a tile asked for without a kept counter came back unbuilt")
    return KeptTile(body, version)
