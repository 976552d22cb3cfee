/* Permanent labels (a hazard area's status and distance, a village's name) placed beside their
   feature so that they never hide a hazard area: part of SG (map.js). */
SG.labels = (function () {
  "use strict";

  var options = SG.internal.options;

  // Where a label sits beside its feature (px from the anchor): the whole gap, as Leaflet's own
  // tooltip margins are zeroed for labels (map.css), so a label's box is plain arithmetic.
  var SIDES = { top: [0, -14], bottom: [0, 14], right: [14, 0], left: [-14, 0] };
  var pending = null; // a declutter waiting for the next frame

  // The top-left corner (layer px) of a label of `size` on `side` of the anchor point `p`,
  // rounded as Leaflet rounds a tooltip's.
  function corner(p, size, side) {
    var w = size[0], h = size[1], o = SIDES[side];
    var sub = side === "top" ? [w / 2, h] : side === "bottom" ? [w / 2, 0] : side === "right" ? [0, h / 2] : [w, h / 2];
    return p.subtract(L.point(sub[0], sub[1], true)).add(L.point(o[0], o[1]));
  }

  function place(container, side, at) {
    if (container._sgSide !== side) { // a class change makes the browser restyle: only if needed
      for (var s in SIDES) L.DomUtil.removeClass(container, "leaflet-tooltip-" + s);
      L.DomUtil.addClass(container, "leaflet-tooltip-" + side);
      container._sgSide = side;
    }
    L.DomUtil.setPosition(container, at);
  }

  // A permanent label that moves with the map from the size declutter measured, instead of
  // reading its size from the page at every zoom step as Leaflet's tooltips do (each read after
  // the previous label's move lays the page out again). Not yet measured, it waits for the
  // declutter that the next frame runs, before anything is painted.
  var Label = L.Tooltip.extend({
    _setPosition: function (pos) {
      if (!this._sgSize) schedule(this._map);
      place(this._container, this.options.direction, corner(pos.add(this._getAnchor()), this._sgSize || [0, 0], this.options.direction));
    },
  });

  function schedule(map) {
    if (pending || !map) return;
    pending = requestAnimationFrame(function () { pending = null; declutter(map); });
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  // Permanent labels (distances, dates) never hide a hazard area: each label, nearest feature
  // first, takes the first side of its feature where it covers no small hazard area and no label
  // already placed, or is left out (its text stays in the popup and the printed table).
  // The page is read once (every label's size, the areas' boxes), the sides are tried in
  // arithmetic, and the labels written last: reading a label's box after moving the previous one
  // makes the browser lay the whole page out again, per label (most of a phone map's opening).
  function declutter(map) {
    if (pending) cancelAnimationFrame(pending);
    pending = null;
    var key = options.locate && options.locate.layer;
    var labels = [];
    map.eachLayer(function (l) {
      var t = l.getTooltip && l.getTooltip();
      if (t && t.options.permanent && t._container) labels.push(t);
    });
    if (!labels.length) return; // an overview: nothing to place, no need to read 20,000 boxes
    // A place's name never covers any part of a hazard area's box, however large the area
    // (the hazards' own labels, placed first, only keep clear of the small ones they would hide).
    function isPlace(t) { return / sg-label-place/.test(t.options.className); }
    labels.sort(function (a, b) { return isPlace(a) - isPlace(b); });
    labels.forEach(function (t) { t._container.style.display = ""; });
    var biggest = 0;
    labels.forEach(function (t) {
      var c = t._container, r = c.getBoundingClientRect();
      t._sgSize = [c.offsetWidth, c.offsetHeight]; // whole pixels, as Leaflet places a tooltip
      t._sgBox = [r.width, r.height]; // the box as drawn, fractions included, for the overlaps
      biggest = Math.max(biggest, r.width * r.height);
    });
    var box = map.getContainer().getBoundingClientRect();
    var areas = grid(), placed = grid(), every = [];
    map.eachLayer(function (l) {
      if (l._path && l.feature && (l.options.className || "").split(" ").indexOf("sg-p-" + key) >= 0) {
        var r = l._path.getBoundingClientRect();
        every.push(r); // for places' names
        if (r.width * r.height < 6 * biggest) areas.add(r); // bigger ones never hide a label's spot
      }
    });
    var origin = map.layerPointToContainerPoint(L.point(0, 0)).add(L.point(box.left, box.top));
    var chosen = labels.map(function (t) {
      var p = map.latLngToLayerPoint(t._latlng).add(t._getAnchor());
      var size = t._sgSize, drawn = t._sgBox, area = drawn[0] * drawn[1], name = isPlace(t);
      function clear(r) {
        if (name) return !every.some(function (a) { return overlaps(a, r); });
        return !areas.hits(r, function (a) { return a.width * a.height < 6 * area; });
      }
      for (var side in SIDES) {
        var at = corner(p, size, side), left = origin.x + at.x, top = origin.y + at.y;
        var r = { left: left, top: top, right: left + drawn[0], bottom: top + drawn[1] };
        if (!placed.hits(r, null) && clear(r)) {
          placed.add(r);
          return { side: side, at: at };
        }
      }
      return null;
    });
    labels.forEach(function (t, i) {
      if (!chosen[i]) { t._container.style.display = "none"; return; }
      t.options.direction = chosen[i].side;
      t.options.offset = SIDES[chosen[i].side];
      place(t._container, chosen[i].side, chosen[i].at);
    });
  }

  // Boxes (client px) bucketed in square cells, so a label is checked against its neighbours
  // only, not against every label and area of the map.
  function grid() {
    var cells = {}, CELL = 64;
    function each(r, fn) {
      for (var x = Math.floor(r.left / CELL); x <= Math.floor(r.right / CELL); x++) {
        for (var y = Math.floor(r.top / CELL); y <= Math.floor(r.bottom / CELL); y++) {
          if (fn(x + ":" + y)) return true;
        }
      }
      return false;
    }
    return {
      add: function (r) { each(r, function (c) { (cells[c] = cells[c] || []).push(r); }); },
      hits: function (r, test) {
        return each(r, function (c) {
          return (cells[c] || []).some(function (a) { return overlaps(a, r) && (!test || test(a)); });
        });
      },
    };
  }

  return { SIDES: SIDES, Label: Label, declutter: declutter };
})();
