"""Who is calling: API keys resolved to a Principal, remembered for a few seconds per process.

Looking a key up costs a database round trip on every request, a good part of a small request's
time; each process remembers a key's answer (role, or refusal) for `api.key_cache_seconds`, so a
revoked key stops working within that time on every replica. Nothing else is kept in memory.
"""

from __future__ import annotations

import hashlib
import time

import sqlalchemy as sa

from gis.access import ANONYMOUS, Principal, principal_for
from gis.errors import Unauthorized

MAX_REMEMBERED_KEYS = 10_000


class KeyCache:
    """key hash -> (principal or None for a refused key, expiry on the monotonic clock)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[Principal | None, float]] = {}

    def lookup(self, key: str) -> tuple[bool, Principal | None]:
        """(known, principal); known is False when the database must be asked."""
        entry = self._entries.get(_digest(key))
        if entry is None or entry[1] < time.monotonic():
            return False, None
        return True, entry[0]

    def remember(self, key: str, principal: Principal | None) -> None:
        if self.seconds <= 0:
            return
        if len(self._entries) >= MAX_REMEMBERED_KEYS:
            self._entries.clear()
        self._entries[_digest(key)] = (principal, time.monotonic() + self.seconds)

    def clear(self) -> None:
        self._entries.clear()


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def resolve(engine: sa.Engine, cache: KeyCache, key: str | None) -> Principal:
    """The caller for a key (blocking: asks the database when the cache does not know)."""
    if not key:
        return ANONYMOUS
    known, principal = cache.lookup(key)
    if not known:
        try:
            with engine.connect() as conn:
                principal = principal_for(conn, key)
        except Unauthorized:
            principal = None
        cache.remember(key, principal)
    if principal is None:
        raise Unauthorized("the API key is not valid (unknown or revoked)")
    return principal
