"""Where things are on the screen (or the printed sheet): the map, its area of interest, every
hazard area drawn (projected bounds) and every panel, as [left, top, right, bottom] CSS pixels."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

Box = list[float]

BOXES = """
(key) => {
  const map = window.safeground.map;
  const c = map.getContainer().getBoundingClientRect();
  const rect = (b) => {
    const nw = map.latLngToContainerPoint(b.getNorthWest());
    const se = map.latLngToContainerPoint(b.getSouthEast());
    return [c.left + nw.x, c.top + nw.y, c.left + se.x, c.top + se.y];
  };
  const hazards = [];
  map.eachLayer((l) => {
    const cls = (l.options && l.options.className) || "";
    if (l.feature && l.getBounds && cls.split(" ").includes("sg-p-" + key)) {
      hazards.push({ id: l.feature.id, box: rect(l.getBounds()) });
    }
  });
  const panels = [];
  for (const el of document.querySelectorAll(".leaflet-control-container .leaflet-control")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) {
      panels.push({ name: el.id || el.className, box: [r.left, r.top, r.right, r.bottom] });
    }
  }
  const aoi = window.safeground.aoi ? rect(L.latLngBounds(window.safeground.aoi)) : null;
  return { map: [c.left, c.top, c.right, c.bottom], aoi, hazards, panels };
}
"""

# Points inside each hazard area where the topmost element is that area's own path (nothing
# drawn or placed over it), away from its edges; a grid over its box, finer for small ones.
# Labels and markers let clicks through (pointer-events: none), which would hide them from
# elementFromPoint: for the count they are made hit-testable, so a label over an area counts.
VISIBLE_POINTS = """
(key) => {
  const map = window.safeground.map;
  const out = {};
  const probe = document.createElement("style");
  probe.textContent = ".leaflet-tooltip, .leaflet-marker-icon, .leaflet-marker-icon * "
    + "{ pointer-events: auto !important; }";
  document.head.appendChild(probe);
  map.eachLayer((l) => {
    const cls = (l.options && l.options.className) || "";
    if (!(l.feature && l._path && cls.split(" ").includes("sg-p-" + key))) return;
    const r = l._path.getBoundingClientRect();
    const step = Math.max(1, Math.min(r.width, r.height) / 8);
    const own = (x, y) => document.elementFromPoint(x, y) === l._path;
    const points = [];
    for (let y = r.top + step / 2; y < r.bottom; y += step) {
      for (let x = r.left + step / 2; x < r.right; x += step) {
        if (own(x, y) && own(x - 2, y) && own(x + 2, y) && own(x, y - 2) && own(x, y + 2)) {
          points.push([x, y]);
        }
      }
    }
    out[l.feature.id] = points;
  });
  probe.remove();
  return out;
}
"""


def boxes(page: Page, key: str = "hazard_areas") -> dict[str, Any]:
    return page.evaluate(BOXES, key)


def visible_points(page: Page, key: str = "hazard_areas") -> dict[str, list[list[float]]]:
    return page.evaluate(VISIBLE_POINTS, key)


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner: Box, outer: Box, slack: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )
