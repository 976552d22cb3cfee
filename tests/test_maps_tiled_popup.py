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
# A drawn hazard (a dot or a small area) whose centre is on the map, under no panel and no
# other hazard's box. The tiles are canvases that let the pointer through: the map finds the
# hazard under a click (tiles.js), above whatever is drawn beneath it.
CLICKABLE = """() => {
  const boxes = SG.tiledBoxes('hazard_areas');
  for (const b of boxes) {
    const x = (b.left + b.right) / 2, y = (b.top + b.bottom) / 2;
    if (b.right - b.left > 16 || b.bottom - b.top > 16) continue;
    const el = document.elementFromPoint(x, y);
    if (!el || !el.closest('.leaflet-map-pane')) continue;
    const alone = boxes.every((o) => o === b || o.id === b.id ||
      x < o.left - 6 || x > o.right + 6 || y < o.top - 6 || y > o.bottom + 6);
    if (alone) return [x, y, b.id];
  }
  return null;
}"""


def click_a_hazard(page) -> int:
    """Click a drawn hazard area; its id."""
    at = page.evaluate(CLICKABLE)
    assert at, "a tiled hazard area is drawn where it can be clicked"
    page.mouse.click(at[0], at[1])
    return int(at[2])


def test_clicking_a_tiled_hazard_shows_its_fields_from_the_item(demo, base_url, browser) -> None:
    held = []
    with open_map(browser, f"{base_url}/maps/overview", page_headers={"X-API-Key": demo.key}) as (
        page,
        report,
    ):
        page.wait_for_load_state("networkidle")
        base.assert_clean(report)
        page.context.route("**/collections/hazard_areas/items/*", lambda r: held.append(r))  # held
        clicked = click_a_hazard(page)
        popup = page.locator(".leaflet-popup-content .sg-popup")
        popup.wait_for(state="visible")
        assert "loading\u2026" in popup.inner_text()
        assert held, "the click asked for the feature's item"
        feature_id = int(ITEM.search(held[0].request.url).group(1))
        assert feature_id == clicked  # the hazard drawn under the pointer, not one beneath it
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
