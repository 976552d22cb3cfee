"""The pages around the maps: unknown parameters refused, no API key in any link or file, the
API documentation and the landing page with no CDN, and every map's symbols outside the hazard
palette."""

from __future__ import annotations

import json
import math
import re

import pytest

from gis.notices import NOT_SAFE
from layers import REGISTRY
from tests.test_maps import client

__all__ = ["client"]
ROUTE = {"type": "LineString", "coordinates": [[46.2, 40.25], [46.3, 40.28]]}
# CIE76 distance (Lab) under which two colours read as one on a map.
MIN_DELTA_E = 20.0


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/maps/overview", "f"),
        ("/maps/visit?village=Alphaville", "f"),
        ("/maps/coverage?risk_within_m=none", "bbox"),
        ("/maps", "district"),
    ],
)
def test_unknown_parameters_on_map_routes_answer_400_naming_them(client, path, param) -> None:
    sep = "&" if "?" in path else "?"
    response = client.get(f"{path}{sep}{param}=pdf")
    assert response.status_code == 400
    assert f"unknown parameter(s) {param}" in response.json()["description"]


def test_route_map_refuses_unknown_parameters_too(client) -> None:
    response = client.post("/maps/visit?buffer_m=300&format=pdf", json=ROUTE)
    assert response.status_code == 400 and "format" in response.json()["description"]


def test_danger_distance_reaches_the_page_and_is_checked(client) -> None:
    page = client.get("/maps/visit", params={"village": "Alphaville", "danger_m": 250})
    assert page.status_code == 200 and 'SG.configure({"dangerM":250.0})' in page.text
    refused = client.get("/maps/overview", params={"danger_m": 1})
    assert refused.status_code == 400 and "danger_m" in refused.text


def test_no_api_key_in_any_link_or_downloaded_file(client) -> None:
    key = client.headers.pop("X-API-Key")
    page = client.get("/maps/visit", params={"village": "Alphaville", "api_key": key})
    assert page.status_code == 200 and "Hazard areas (1)" in page.text  # the key was used
    assert key not in page.text
    href = re.search(r'class="sg-download"><a href="([^"]+)"', page.text)
    assert href is not None and "api_key" not in href.group(1) and "offline=true" in href.group(1)
    offline = client.get(
        "/maps/overview", params={"offline": "true", "api_key": key, "district": "Alpha"}
    )
    assert offline.status_code == 200 and key not in offline.text
    index = client.get("/maps").text
    assert 'name="api_key"' not in index and "X-API-Key" not in index


def test_api_docs_come_from_the_installed_swagger_ui(client) -> None:
    docs = client.get("/api.html")
    assert docs.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert "maps/assets/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    for source in sources:
        if source.startswith("maps/assets/"):
            assert client.get(f"/{source}").status_code == 200, source
    assert client.get("/api").json()["openapi"].startswith("3.")


def test_landing_page_links_to_the_maps_and_the_docs(client) -> None:
    links = {link["href"].split("?")[0]: link for link in client.get("/").json()["links"]}
    hrefs = {h.removeprefix("http://testserver") for h in links}
    assert {"/maps", "/maps/overview", "/api.html", "/api"} <= hrefs
    html = client.get("/?f=html").text
    assert "/maps/overview" in html and "/api.html" in html
    assert NOT_SAFE.replace("'", "&#39;") in html


def _lab(hex_colour: str) -> tuple[float, float, float]:
    def linear(c: float) -> float:
        return ((c + 0.055) / 1.055) ** 2.4 if c > 0.04045 else c / 12.92

    r, g, b = (linear(int(hex_colour[i : i + 2], 16) / 255) for i in (1, 3, 5))
    x = (r * 0.4124 + g * 0.3576 + b * 0.1805) / 0.95047
    y = r * 0.2126 + g * 0.7152 + b * 0.0722
    z = (r * 0.0193 + g * 0.1192 + b * 0.9505) / 1.08883

    def f(v: float) -> float:
        return v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _configs(html: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for text in re.findall(r"SG\.define\((\{.*?\})\);</script>", html):
        found |= json.loads(text)
    return found


@pytest.mark.parametrize("which", ["overview", "visit", "coverage", "route"])
def test_every_map_draws_its_symbols_outside_the_hazard_palette(client, which) -> None:
    """A village with no session, a cluster of distributions, a facility: none may be read as a
    hazard area (red, orange) or as released land (greens, greys)."""
    if which == "route":
        html = client.post("/maps/visit?buffer_m=3000", json=ROUTE).text
    else:
        params = {"overview": {}, "visit": {"village": "Alphaville"}}.get(
            which, {"since": "2024-01-01", "until": "2024-12-31"}
        )
        html = client.get(f"/maps/{which}", params=params).text
    configs = _configs(html)
    hazard = REGISTRY["hazard_areas"].style
    palette = [_lab(c) for c in (hazard.color, *hazard.colors.values())]
    # every layer but the hazards themselves and the district outlines (no fill) is a symbol
    symbols = {k: c for k, c in configs.items() if not k.startswith(("hazard_areas", "districts"))}
    if which == "coverage":
        assert {"villages_uncovered", "villages_covered"} <= set(symbols)
    assert symbols, configs.keys()
    for key, cfg in symbols.items():
        for colour in {cfg["color"], *cfg["colors"].values()}:
            nearest = min(math.dist(_lab(colour), h) for h in palette)
            assert nearest >= MIN_DELTA_E, f"{which}: {key} uses {colour}, ΔE {nearest:.1f}"
