"""Pages and links safe to open and to share: security headers on every HTML answer, links only
to our own host, and no API key written into a link or the access log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.guard import CONTENT_SECURITY_POLICY, MAP_CONTENT_SECURITY_POLICY
from gis.settings import ApiSettings, Settings
from gis.spec import Role

from .test_writes import Api, make_api

HTML_PAGES = ["/?f=html", "/collections?f=html", "/collections/villages/items?f=html",
              "/collections/villages?f=html", "/maps", "/maps/overview", "/api.html"]  # fmt: skip


@pytest.fixture
def api(settings: Settings, committed: sa.Engine) -> Iterator[Api]:
    yield from make_api(settings, committed)


@pytest.mark.parametrize("path", HTML_PAGES)
def test_every_html_answer_carries_the_security_headers(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert csp == (
        MAP_CONTENT_SECURITY_POLICY if path.startswith("/maps") else CONTENT_SECURITY_POLICY
    )
    assert "frame-ancestors 'none'" in csp and "http" not in csp  # no external origin at all
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


def test_json_answers_are_not_sniffed_either(api: Api) -> None:
    response = api.client.get("/collections")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


def test_an_untrusted_host_header_is_refused_and_never_becomes_a_link(api: Api) -> None:
    response = api.client.get("/collections", headers={"Host": "evil.example"})
    assert response.status_code == 400 and "evil.example" not in response.text
    trusted = api.client.get("/collections", headers={"Host": "localhost:8000"})
    assert trusted.status_code == 200
    assert all(
        link["href"].startswith("http://localhost:8000/") for link in trusted.json()["links"]
    )


def test_links_come_from_the_public_url_whatever_the_host_header(
    settings: Settings, committed: sa.Engine
) -> None:
    public = settings.model_copy(
        update={"api": ApiSettings(public_url="https://safeground.example.org/")}
    )
    app = create_app(public)
    with TestClient(app) as client:
        body = client.get("/collections", headers={"Host": "evil.example"}).json()
        items = client.get("/collections/villages/items", headers={"Host": "evil.example"}).json()
    app.state.engine.dispose()
    hrefs = [link["href"] for doc in (body, items) for link in doc["links"]]
    assert hrefs and all(h.startswith("https://safeground.example.org/") for h in hrefs)
    assert not any("evil.example" in h for h in hrefs)


def test_no_link_or_download_url_carries_the_api_key(api: Api) -> None:
    key = api.keys[Role.partner]
    pages = [
        api.client.get(f"/collections?api_key={key}"),
        api.client.get(f"/collections/hazard_areas/items?api_key={key}&limit=1"),
        api.client.get(f"/collections/hazard_areas?api_key={key}"),
        api.client.get(f"/collections/hazard_areas/items?api_key={key}&f=html"),
        api.client.get(f"/maps/overview?api_key={key}"),
    ]
    for page in pages:
        assert page.status_code == 200, page.text
        assert key not in page.text
    assert "hazard_areas" in pages[0].text  # the key was honoured, only not written down


def test_the_access_log_redacts_api_keys(settings: Settings, caplog) -> None:
    app = create_app(settings)  # installs the filter on uvicorn's access logger
    app.state.engine.dispose()
    logger = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    "/collections?f=json&api_key=sg_secret123&API_KEY=sg_other", "1.1", 200)  # fmt: skip
    logged = caplog.records[-1].getMessage()
    assert "sg_secret123" not in logged and "sg_other" not in logged
    assert "api_key=REDACTED" in logged and "f=json" in logged
