"""API keys and the audit log: who may read or write, and what they did.

Keys are long random tokens, so a SHA-256 of the key is enough to store (a slow password hash
would only slow every request); the key itself is shown once, at creation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gis.errors import NotFound, Unauthorized
from gis.spec import Role, metadata

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("key_hash", sa.Text, nullable=False, unique=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("role IN ('partner', 'staff', 'editor', 'admin')", name="role_allowed"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("layer", sa.Text),
    sa.Column("detail", JSONB, nullable=False, server_default="{}"),
    sa.Column("feature_count", sa.Integer),
    sa.Index("audit_log_at", "at"),
)

KEY_PREFIX = "sg_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a named key with a role, or anonymous (public)."""

    name: str | None
    role: Role

    @property
    def actor(self) -> str:
        return self.name or "anonymous"


ANONYMOUS = Principal(None, Role.public)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(conn: sa.Connection, name: str, role: Role) -> str:
    """A new key for `name`; returns the key, which is never stored or shown again."""
    if role == Role.public:
        raise ValueError("public needs no key")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(sa.insert(api_keys).values(name=name, role=role.name, key_hash=key_hash(key)))
    return key


def principal_for(conn: sa.Connection, key: str | None) -> Principal:
    """The caller a key belongs to; anonymous without a key; Unauthorized for a bad or revoked key."""
    if not key:
        return ANONYMOUS
    row = conn.execute(
        sa.select(api_keys.c.name, api_keys.c.role, api_keys.c.revoked_at).where(
            api_keys.c.key_hash == key_hash(key)
        )
    ).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("the API key is not valid (unknown or revoked)")
    return Principal(row.name, Role[row.role])


def list_keys(conn: sa.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            api_keys.c.id,
            api_keys.c.name,
            api_keys.c.role,
            api_keys.c.created_at,
            api_keys.c.revoked_at,
        ).order_by(api_keys.c.id)
    )
    return [dict(r._mapping) for r in rows]


def revoke_key(conn: sa.Connection, key_id: int) -> None:
    done = conn.execute(
        sa.update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=sa.func.now())
    ).rowcount
    if not done:
        raise NotFound(f"no active key with id {key_id}")


def audit(
    conn: sa.Connection,
    principal: Principal,
    action: str,
    layer: str | None,
    detail: dict[str, Any] | None = None,
    feature_count: int | None = None,
) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            actor=principal.actor,
            action=action,
            layer=layer,
            detail=detail or {},
            feature_count=feature_count,
        )
    )


def audit_entries(
    conn: sa.Connection, since: dt.datetime | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    return [dict(r._mapping) for r in conn.execute(query)]
