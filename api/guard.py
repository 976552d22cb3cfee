"""ASGI middleware that keeps the service up for everyone: the last-line error answer, bulkheads
for heavy work, and the security headers of every HTML answer.

Each is plain ASGI (no BaseHTTPMiddleware), so streaming bodies pass through untouched.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import bug_response, domain_response
from gis.errors import InvalidParameter, SafeGroundError, TooManyRequests, Unavailable

log = logging.getLogger("api")


class CatchAll:
    """Answers an unhandled exception with a 500 and does not re-raise it.

    Starlette's own last handler re-raises after answering, and uvicorn then closes the client's
    keep-alive connection, so the client's next (valid) request on it fails too.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:  # half a response is out: only closing the connection can end it
                raise
            await bug_response()(scope, receive, send)


class RefuseNul:
    """A NUL byte in the path or in any query parameter is refused (400) naming where: PostgreSQL
    cannot hold one in text, and no parameter has a use for it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_in(scope)
            if where is not None:
                refusal = InvalidParameter(f"{where} contains a NUL byte (\\x00), which is refused")
                await domain_response(refusal)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_in(scope: Scope) -> str | None:
    if "\x00" in scope.get("path", ""):
        return "the path"
    query = scope.get("query_string", b"").decode("latin-1")
    if "%00" not in query and "\x00" not in query:
        return None
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        if "\x00" in name:
            return "a parameter name"
        if "\x00" in value:
            return f"the parameter '{name[:40]}'"
    return None


# --- bulkheads ---------------------------------------------------------------------------------

HEAVY_FORMATS = ("csv", "gpkg")
POLL_S = 0.02


def is_heavy(scope: Scope) -> bool:
    """Analyses, map builds, exports and imports: the requests that can hold a connection long."""
    path: str = scope.get("path", "")
    if path.startswith("/analysis/"):
        return True
    if path.startswith("/maps/") and not path.startswith("/maps/assets/"):
        return True
    if path.startswith("/collections/") and path.endswith("/imports"):
        return True
    if path.startswith("/collections/") and path.endswith("/items"):
        query = scope.get("query_string", b"").decode("latin-1").lower()
        wanted = {p.partition("=")[2] for p in query.split("&") if p.startswith("f=")}
        accept = Headers(scope=scope).get("accept", "").lower()
        return bool(wanted & set(HEAVY_FORMATS)) or (
            not wanted and ("text/csv" in accept or "geopackage" in accept)
        )
    return False


def caller_of(scope: Scope) -> str:
    """Who a heavy request counts against: its API key (hashed), else its client address."""
    key = Headers(scope=scope).get("x-api-key")
    if not key:
        for pair in scope.get("query_string", b"").split(b"&"):
            name, _, value = pair.partition(b"=")
            if name == b"api_key" and value:
                key = value.decode("latin-1")
                break
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    client = scope.get("client")
    return f"addr:{client[0] if client else '-'}"


class Slots:
    """Heavy requests in flight, in total and per caller (per process; thread-safe, loop-free)."""

    def __init__(self, total: int, per_caller: int) -> None:
        self.total = total
        self.per_caller = per_caller
        self._lock = threading.Lock()
        self.busy = 0
        self.by_caller: Counter[str] = Counter()

    def take(self, caller: str) -> str | None:
        """None when taken; else why not: 'caller' (this caller's limit) or 'full'."""
        with self._lock:
            if self.by_caller[caller] >= self.per_caller:
                return "caller"
            if self.busy >= self.total:
                return "full"
            self.busy += 1
            self.by_caller[caller] += 1
            return None

    def give_back(self, caller: str) -> None:
        with self._lock:
            self.busy -= 1
            self.by_caller[caller] -= 1
            if self.by_caller[caller] <= 0:
                del self.by_caller[caller]


class Bulkhead:
    """At most `total` heavy requests at once (the rest of the pool stays for item reads), at most
    `per_caller` per API key: over the caller's share 429, no free slot within `wait_s` 503."""

    def __init__(
        self, app: ASGIApp, total: int, per_caller: int, wait_s: float, heavy: Callable = is_heavy
    ) -> None:
        self.app = app
        self.slots = Slots(total, per_caller)
        self.wait_s = wait_s
        self.heavy = heavy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.heavy(scope):
            await self.app(scope, receive, send)
            return
        caller = caller_of(scope)
        refusal = await self._take(caller)
        if refusal is not None:
            await domain_response(refusal)(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.give_back(caller)

    async def _take(self, caller: str) -> SafeGroundError | None:
        deadline = time.monotonic() + self.wait_s
        while True:
            why = self.slots.take(caller)
            if why is None:
                return None
            if why == "caller":
                return TooManyRequests(
                    f"this API key already has {self.slots.per_caller} heavy requests (analyses, "
                    "maps, exports, imports) running; wait for one to finish",
                    retry_after_s=5,
                )
            if time.monotonic() >= deadline:
                return Unavailable(
                    "the server is busy with other analyses, maps, exports and imports; "
                    "try again shortly",
                    retry_after_s=5,
                )
            await asyncio.sleep(POLL_S)


# --- security headers --------------------------------------------------------------------------

# Nothing is loaded from another origin (maps inline or serve their assets themselves); Folium's
# pages need inline scripts and styles, and Leaflet draws with data: and blob: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# leaflet-measure compiles its templates with `new Function` (lodash's template), so map pages
# also need 'unsafe-eval'; it still admits no script from anywhere but this origin.
MAP_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self' 'unsafe-inline'", "script-src 'self' 'unsafe-inline' 'unsafe-eval'"
)
EVERY_ANSWER = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
FRAMING = (b"x-frame-options", b"DENY")


def html_headers(path: str) -> list[tuple[bytes, bytes]]:
    policy = MAP_CONTENT_SECURITY_POLICY if path.startswith("/maps") else CONTENT_SECURITY_POLICY
    return [*EVERY_ANSWER, (b"content-security-policy", policy.encode()), FRAMING]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added: Iterable[tuple[bytes, bytes]] = EVERY_ANSWER
                content_type = Headers(raw=headers).get("content-type", "")
                if content_type.startswith("text/html"):
                    added = html_headers(scope.get("path", ""))
                headers += [(n, v) for n, v in added if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
