"""A tiled hazard area's popup in real Chromium: national-zoom tiles are light (the id and the
status only, gis/tiles.py), so clicking one fetches the feature's fields from its item with the
page's session cookie — "loading…" first, then the item's fields; a failed fetch says so, never
a blank popup."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests import test_maps_browser as base
from tests.browser.chromium import open_map, screenshot

# the same module-scoped fixtures: the national demo served on a loopback port, a partner's key
demo, base_url, browser = base.demo, base.base_url, base.browser

ITEM = re.compile(r"/collections/hazard_areas/items/(\d+)")
# A drawn hazard whose centre is its own on screen (a dot or a small area, not under a panel).
CLICKABLE = """() => {
  for (const el of document.querySelectorAll('.leaflet-sgHazards-pane .sg-tiled-hazard_areas path')) {
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (r.width > 0 && r.width < 16 && document.elementFromPoint(x, y) === el) return [x, y];
  }
  return null;
}"""


def click_a_hazard(page) -> None:
    at = page.evaluate(CLICKABLE)
    assert at, "a tiled hazard area is drawn where it can be clicked"
    page.mouse.click(*at)


def test_clicking_a_tiled_hazard_shows_its_fields_from_the_item(demo, base_url, browser) -> None:
    held = []
    with open_map(browser, f"{base_url}/maps/overview", page_headers={"X-API-Key": demo.key}) as (
        page,
        report,
    ):
        page.wait_for_load_state("networkidle")
        base.assert_clean(report)
        page.context.route("**/collections/hazard_areas/items/*", lambda r: held.append(r))  # held
        click_a_hazard(page)
        popup = page.locator(".leaflet-popup-content .sg-popup")
        popup.wait_for(state="visible")
        assert "loading\u2026" in popup.inner_text()
        assert held, "the click asked for the feature's item"
        feature_id = int(ITEM.search(held[0].request.url).group(1))
        held[0].continue_()  # the page's own request, with its session cookie
        page.locator(".sg-popup table").wait_for(state="visible")
        with demo.engine.connect() as conn:
            name, status, hazard_type = conn.execute(
                sa.text("SELECT name, status, hazard_type FROM hazard_areas WHERE id = :i"),
                {"i": feature_id},
            ).one()
        cells = dict(
            zip(
                popup.locator("th").all_inner_texts(),
                popup.locator("td").all_inner_texts(),
                strict=True,
            )
        )
        # the name is not in a light tile: it came from the item
        assert name and name in cells.values()
        assert status in cells.values() and hazard_type in cells.values()
        assert "loading\u2026" not in popup.inner_text()
        base.assert_clean(report)
        screenshot(page, "overview-tiled-hazard-popup")


@pytest.mark.parametrize("failure", ["refused", "unreachable"])
def test_a_failed_item_fetch_says_so_in_the_popup(demo, base_url, browser, failure) -> None:
    with open_map(browser, f"{base_url}/maps/overview", page_headers={"X-API-Key": demo.key}) as (
        page,
        report,
    ):
        page.wait_for_load_state("networkidle")
        base.assert_clean(report)
        if failure == "refused":
            page.context.route(
                "**/collections/hazard_areas/items/*", lambda r: r.fulfill(status=500, body="x")
            )
        else:
            page.context.route("**/collections/hazard_areas/items/*", lambda r: r.abort("failed"))
        click_a_hazard(page)
        error = page.locator(".leaflet-popup-content .sg-popup-error")
        error.wait_for(state="visible")
        said = error.inner_text()
        assert "could not be loaded" in said
        assert ("HTTP 500" if failure == "refused" else "network error") in said
        assert page.locator(".leaflet-popup-content table").count() == 0
