"""The offline national overview's hazard areas on their canvas (gis/maps/canvas.js), in real
Chromium with the network refused: the canvas projects a shape's vertices only when its box meets
the canvas, so at every zoom, in and out, every hazard area on record stays on the canvas, every
one whose box meets the view is projected for that very view (so it is painted), and one brought
into view by a pan is projected and answers a click with its popup and its recorded figures."""

from __future__ import annotations

import sqlalchemy as sa

from layers import REGISTRY
from tests import test_maps_browser as base
from tests.browser.chromium import another, open_map, saved_map, zoom

# the same module-scoped fixtures: the national demo served on a loopback port, a partner's key
demo, base_url, browser = base.demo, base.base_url, base.browser

# Per hazard shape on the canvas: its id, whether its box meets the view, and whether its first
# vertex is projected for the current view (what Leaflet paints from).
SHAPES = """() => {
  const map = window.safeground.map, view = map.getBounds(), out = [];
  map.eachLayer((c) => {
    if (!(c instanceof L.Canvas)) return;
    for (const id in c._layers) {
      const s = c._layers[id];
      if (!(s.options.className || "").split(" ").includes("sg-p-hazard_areas")) continue;
      const first = s._defaultShape()[0], ring = s._rings && s._rings[0];
      const p = map.latLngToLayerPoint(first);
      out.push([s.feature.id, view.intersects(s.getBounds()),
                !!ring && Math.abs(ring[0].x - p.x) < 0.5 && Math.abs(ring[0].y - p.y) < 0.5]);
    }
  });
  return out;
}"""

# A hazard shape whose box lies beyond the canvas (its vertices not projected); its centre.
BEYOND = """() => {
  const map = window.safeground.map;
  let found = null;
  map.eachLayer((c) => {
    if (found || !(c instanceof L.Canvas)) return;
    for (const id in c._layers) {
      const s = c._layers[id];
      if ((s.options.className || "").split(" ").includes("sg-p-hazard_areas") &&
          !s._pxBounds.intersects(c._bounds) && (!s._rings || !s._rings.length)) {
        const b = s.getBounds();
        found = [s.feature.id, b.getCenter().lat, b.getCenter().lng];
        return;
      }
    }
  });
  return found;
}"""

# The centre of the first hazard shape's box.
FIRST = """() => {
  let found = null;
  window.safeground.map.eachLayer((c) => {
    if (found || !(c instanceof L.Canvas)) return;
    for (const id in c._layers) {
      if ((c._layers[id].options.className || "").split(" ").includes("sg-p-hazard_areas")) {
        const centre = c._layers[id].getBounds().getCenter();
        found = [centre.lat, centre.lng];
        return;
      }
    }
  });
  return found;
}"""

# Pan (no animation) to [lat, lon], once painted.
PAN = """([lat, lon]) => new Promise((done) => { const m = window.safeground.map;
  m.once('moveend', () => requestAnimationFrame(() => setTimeout(() => done(0), 0)));
  m.panTo([lat, lon], {animate: false}); })"""

# A point of the given shape, in page pixels, where a click reaches the canvas and lands inside it
# and no other shape.
INSIDE = """(id) => {
  const map = window.safeground.map, box = map.getContainer().getBoundingClientRect();
  let shape = null, canvas = null;
  map.eachLayer((c) => {
    if (c instanceof L.Canvas) for (const k in c._layers)
      if (c._layers[k].feature && c._layers[k].feature.id === id) { shape = c._layers[k]; canvas = c; }
  });
  const b = shape._pxBounds;
  for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++) {
    // whole pixels: a mouse event's position is, and a shape may be a few pixels across
    const q = map.layerPointToContainerPoint(L.point(b.min.x + (b.max.x - b.min.x) * i / 20,
                                                     b.min.y + (b.max.y - b.min.y) * j / 20));
    const x = Math.round(q.x + box.left), y = Math.round(q.y + box.top);
    const p = map.containerPointToLayerPoint([x - box.left, y - box.top]);
    if (!shape._containsPoint(p)) continue;
    let alone = true; // no other shape under the click, which would answer it instead
    for (const k in canvas._layers) if (canvas._layers[k] !== shape && canvas._layers[k]._containsPoint(p)) alone = false;
    if (!alone) continue;
    if (document.elementFromPoint(x, y) === canvas._container) return [x, y];
  }
  return null;
}"""


def test_offline_canvas_projects_every_hazard_in_view_at_every_zoom(
    demo, base_url, browser, tmp_path
) -> None:
    url = f"{base_url}/maps/overview?offline=true"
    offline = saved_map(url, demo.key, tmp_path / "safeground-overview.html")
    live = base.live_ids(demo.engine, "hazard_areas")
    with (
        another(browser, base.NO_NETWORK) as isolated,
        open_map(isolated, offline.as_uri(), offline=True) as (page, report),
    ):
        base.assert_clean(report)
        opening = zoom(page, 0)
        # zoom steps keep the centre: centred on a hazard area, some are in view at every zoom
        page.evaluate(PAN, page.evaluate(FIRST))
        levels = [*range(int(opening) + 1, 14), *range(12, int(opening) - 1, -1)]
        beyond_seen = False
        for level in levels:
            assert zoom(page, level) == level
            shapes = page.evaluate(SHAPES)
            assert sorted(s[0] for s in shapes) == live  # every hazard area, at every zoom
            in_view = [s for s in shapes if s[1]]
            assert in_view, f"some hazard area is in view at zoom {level}"
            stale = [s[0] for s in in_view if not s[2]]
            assert stale == [], f"hazard areas in view but not projected at zoom {level}"
            beyond_seen = beyond_seen or page.evaluate(BEYOND) is not None
        assert beyond_seen, "at some zoom a hazard area lies beyond the canvas, unprojected"

        # a pan to an unprojected hazard area projects it; a click on it opens its popup
        zoom(page, 12)
        target = page.evaluate(BEYOND)
        assert target is not None
        hazard_id, lat, lon = target
        page.evaluate(PAN, [lat, lon])
        assert [s for s in page.evaluate(SHAPES) if s[0] == hazard_id][0][1:] == [True, True]
        at = page.evaluate(INSIDE, hazard_id)
        assert at is not None, "the panned-to hazard area can be clicked"
        page.mouse.click(at[0], at[1])
        popup = page.locator(".leaflet-popup-content .sg-popup")
        popup.wait_for(state="visible")
        t = REGISTRY["hazard_areas"].table
        with demo.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.c.name, t.c.recorded_on).where(t.c.id == hazard_id)
            ).one()
        text = popup.inner_text()
        assert row.name and row.name in text  # the clicked area's own record, not a neighbour's
        assert f"{row.recorded_on.day} {row.recorded_on:%b %Y}" in text
        assert [u for u in report.requests if not u.startswith(("file:", "data:"))] == []
