"""The served map's session cookie (gis/map_sessions.py): issued when a keyed caller opens a
served map, so the page's own tile and item requests — which carry no key — read what that key's
role may read.

The cookie is HttpOnly (no script reads it), SameSite=Strict and scoped to `/collections`, lasts
`api.map_session_seconds`, and is accepted only for reads (GET/HEAD) of a collection's tiles and
items: a write never takes it, so a forged cross-site form can do nothing with it (CSRF).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from fastapi import Request, Response
from fastapi.routing import APIRoute

from gis import map_sessions
from gis.access import Principal

COOKIE = "sg_map_session"
READ_METHODS = frozenset({"GET", "HEAD"})
SCOPE = "/collections"  # the tiles and items the page reads; never /maps, never a write route
MAX_REMEMBERED = 10_000


class SessionKeys:
    """key id -> (its active SessionKey, or None for a revoked one; expiry on the monotonic clock),
    so a page's hundred tile requests ask the database once per `seconds`. A revoked key's
    sessions stop working after at most that long, as the key itself does (api/auth.py)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[int, tuple[map_sessions.SessionKey | None, float]] = {}

    def get(self, engine: sa.Engine, key_id: int) -> map_sessions.SessionKey | None:
        entry = self._entries.get(key_id)
        if entry is not None and entry[1] >= time.monotonic():
            return entry[0]
        with engine.connect() as conn:
            key = map_sessions.key_by_id(conn, key_id)
        if self.seconds > 0:
            if len(self._entries) >= MAX_REMEMBERED:
                self._entries.clear()
            self._entries[key_id] = (key, time.monotonic() + self.seconds)
        return key

    def clear(self) -> None:
        self._entries.clear()


def accepts(request: Request) -> bool:
    """Whether this request may be read with the session: a GET/HEAD of a collection route."""
    route = request.scope.get("route")
    return (
        request.method in READ_METHODS
        and isinstance(route, APIRoute)
        and route.path.startswith(SCOPE + "/")
    )


def principal(request: Request, engine: sa.Engine, value: str) -> Principal:
    """The caller the cookie stands for (blocking); Unauthorized when it expired, was altered or
    its key was revoked — the page then warns that the layer could not be loaded."""
    claim = map_sessions.parse(value)
    keys: SessionKeys = request.app.state.session_keys
    return map_sessions.check(claim, keys.get(engine, claim.key_id), time.time())


def grant(request: Request, response: Response, engine: sa.Engine, key: str | None) -> None:
    """Give a served map's browser a session for `key` (nothing for an anonymous caller)."""
    if not key:
        return
    with engine.connect() as conn:
        found = map_sessions.key_for_api_key(conn, key)
    if found is None:
        return  # cannot happen after the key was accepted, unless revoked in between
    seconds = request.app.state.settings.api.map_session_seconds
    response.set_cookie(
        COOKIE,
        map_sessions.issue(found, time.time(), seconds),
        max_age=int(seconds),
        path=request.scope.get("root_path", "").rstrip("/") + SCOPE,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
