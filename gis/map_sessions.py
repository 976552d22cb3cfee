"""Map sessions: what lets a served map's browser fetch the protected tiles and items it draws.

A browser's tile requests carry no API key (a key never goes into a URL or a page), so a keyed
caller who opens a served map is given a short-lived session instead: `key id . role . expiry .
HMAC`, signed with the key's own stored hash. The hash is a secret only the database holds, so
every replica can check a session with no shared secret to configure, a session is never the key,
and a revoked (or unknown) key's sessions fail with it: checking one reads the key's row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import sqlalchemy as sa

from gis.access import Principal, api_keys, key_hash
from gis.errors import Unauthorized
from gis.spec import Role

SCHEME = b"safeground-map-session-v1"
EXPIRED = "the map session has expired: reload the map"
INVALID = "the map session is not valid (its key was revoked, or it was altered): reload the map"


@dataclass(frozen=True)
class SessionKey:
    """An active API key as a session needs it: who, which role, and the secret that signs."""

    id: int
    name: str
    role: Role
    secret: str  # the key's stored SHA-256, never sent anywhere


def _active(conn: sa.Connection, where: sa.ColumnElement[bool]) -> SessionKey | None:
    row = conn.execute(
        sa.select(api_keys.c.id, api_keys.c.name, api_keys.c.role, api_keys.c.key_hash).where(
            where, api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else SessionKey(row.id, row.name, Role[row.role], row.key_hash)


def key_for_api_key(conn: sa.Connection, key: str) -> SessionKey | None:
    return _active(conn, api_keys.c.key_hash == key_hash(key))


def key_by_id(conn: sa.Connection, key_id: int) -> SessionKey | None:
    return _active(conn, api_keys.c.id == key_id)


def _signature(secret: str, key_id: int, role: Role, expires_at: int) -> str:
    message = b"|".join(
        (SCHEME, str(key_id).encode(), role.name.encode(), str(expires_at).encode())
    )
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(key: SessionKey, now: float, seconds: float) -> str:
    """A session for `key`'s role, valid `seconds` from `now` (unix time)."""
    expires_at = int(now + seconds)
    return f"{key.id}.{key.role.name}.{expires_at}.{_signature(key.secret, key.id, key.role, expires_at)}"


@dataclass(frozen=True)
class Claim:
    """What a session says, before it is checked against its key."""

    key_id: int
    role: str
    expires_at: int
    signature: str


def parse(value: str) -> Claim:
    parts = value.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[2].isdigit() or len(value) > 200:
        raise Unauthorized(INVALID)
    return Claim(int(parts[0]), parts[1], int(parts[2]), parts[3])


def check(claim: Claim, key: SessionKey | None, now: float) -> Principal:
    """The caller a session stands for; Unauthorized when it expired, was altered, or its key is
    no longer active."""
    if claim.expires_at <= now:
        raise Unauthorized(EXPIRED)
    if key is None or key.id != claim.key_id or key.role.name != claim.role:
        raise Unauthorized(INVALID)
    expected = _signature(key.secret, key.id, key.role, claim.expires_at)
    if not hmac.compare_digest(expected, claim.signature):
        raise Unauthorized(INVALID)
    return Principal(key.name, key.role)
