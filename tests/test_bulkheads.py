"""Heavy work has its own bounded share: over a key's share 429, no free slot 503, and item reads
are never counted against it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from api.guard import Bulkhead, is_heavy


def _scope(path: str, query: str = "", accept: str = "") -> Scope:
    headers = [(b"accept", accept.encode())] if accept else []
    return {"type": "http", "path": path, "query_string": query.encode(), "headers": headers}


@pytest.mark.parametrize(
    ("path", "query", "accept", "heavy"),
    [
        ("/analysis/coverage", "", "", True),
        ("/analysis/route-check", "buffer_m=500", "", True),
        ("/maps/overview", "", "", True),
        ("/maps/visit", "village=1", "", True),
        ("/collections/facilities/imports", "", "", True),
        ("/collections/facilities/items", "f=csv", "", True),
        ("/collections/facilities/items", "limit=5&f=gpkg", "", True),
        ("/collections/facilities/items", "", "text/csv", True),
        ("/collections/facilities/items", "", "", False),
        ("/collections/facilities/items", "f=json", "text/csv", False),
        ("/collections/facilities/items/7", "", "", False),
        ("/maps/assets/leaflet/dist/leaflet.js", "", "", False),
        ("/collections", "", "", False),
        ("/health", "", "", False),
    ],
)
def test_heavy_requests_are_analyses_maps_exports_and_imports(
    path: str, query: str, accept: str, heavy: bool
) -> None:
    assert is_heavy(_scope(path, query, accept)) is heavy


def test_heavy_requests_get_a_bounded_share_and_reads_keep_theirs() -> None:
    release = asyncio.Event()
    entered = asyncio.Event()

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/analysis/"):
            entered.set()
            await release.wait()
        await PlainTextResponse("done")(scope, receive, send)

    app = Bulkhead(inner, total=2, per_caller=1, wait_s=0.05)

    async def run() -> dict[str, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            first = asyncio.create_task(
                client.get("/analysis/coverage", headers={"X-API-Key": "partner-a"})
            )
            await entered.wait()
            entered.clear()
            same_key = await client.get("/analysis/within", headers={"X-API-Key": "partner-a"})
            second = asyncio.create_task(
                client.get("/analysis/nearest", params={"api_key": "partner-b"})
            )
            await entered.wait()
            no_slot = await client.get("/analysis/within", headers={"X-API-Key": "partner-c"})
            read = await client.get("/collections/facilities/items", headers={"X-API-Key": "a"})
            release.set()
            done = {"first": await first, "second": await second}
            after = await client.get("/analysis/within", headers={"X-API-Key": "partner-a"})
            return {**done, "same_key": same_key, "no_slot": no_slot, "read": read, "after": after}

    got = asyncio.run(run())
    assert got["same_key"].status_code == 429 and int(got["same_key"].headers["retry-after"]) > 0
    assert "already has 1 heavy" in got["same_key"].json()["description"]
    assert got["no_slot"].status_code == 503 and int(got["no_slot"].headers["retry-after"]) > 0
    assert got["read"].status_code == 200
    assert [got[k].status_code for k in ("first", "second", "after")] == [200, 200, 200]
    assert app.slots.busy == 0 and not app.slots.by_caller
