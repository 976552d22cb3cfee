"""The interactive API documentation renders in Chromium under the pages' Content-Security-Policy,
with every asset from this server (no CDN), at desktop and phone sizes."""

from __future__ import annotations

import pytest

from api.app import create_app
from gis.settings import Settings
from tests.browser.chromium import chromium
from tests.serving import serving


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)])
def test_api_docs_render_under_the_csp_from_our_own_assets(settings: Settings, viewport) -> None:
    app = create_app(settings)
    with serving(app) as base, chromium() as browser:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        page = context.new_page()
        errors: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        response = page.goto(f"{base}/api.html")
        assert response is not None and "content-security-policy" in response.headers
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        title = page.inner_text(".swagger-ui .info .title")
        operations = page.locator(".opblock").count()
        context.close()
    app.state.engine.dispose()
    assert "SafeGround" in title
    assert operations >= 20  # every documented operation is listed
    assert errors == []
    assert requests and all(r.startswith(base) for r in requests), requests
