/* A vector-tile layer drawn on one canvas per tile, in a few batched paths: part of SG (map.js).
   leaflet.vectorgrid makes a Leaflet path object per feature and fills and strokes each on its
   own, which for the national hazard tile (about 20,000 areas) took most of a second of the
   page's main thread before the hazards showed. Here the tile's features are grouped by style,
   each group filled and stroked a few thousand vertices at a time (specks and points filled only,
   see below); the shapes are kept (tile pixels) to answer a click or a hover, and the ids drawn
   (SG.tiledIds). Decoding is vectorgrid's (Pbf, vector-tile). */
SG.tileCanvas = (function () {
  "use strict";

  var Layer = null; // built on first use: a page without tiled layers has no vectorgrid

  function layerClass() {
    if (Layer) return Layer;
    Layer = L.VectorGrid.Protobuf.extend({
      initialize: function (url, options) {
        L.VectorGrid.Protobuf.prototype.initialize.call(this, url, options);
        this._vectorTiles = {}; // by tile key: the ids drawn (_features) and the shapes
        this.on("tileunload", function (e) { delete this._vectorTiles[this._tileCoordsToKey(e.coords)]; }, this);
      },

      createTile: function (coords, done) {
        var size = this.getTileSize(), ratio = window.devicePixelRatio || 1;
        var canvas = L.DomUtil.create("canvas", "leaflet-tile");
        canvas.width = Math.round(size.x * ratio);
        canvas.height = Math.round(size.y * ratio);
        canvas.style.width = size.x + "px";
        canvas.style.height = size.y + "px";
        var key = this._tileCoordsToKey(coords), self = this;
        var tile = { coords: coords, size: size, shapes: [], _features: {} };
        this._vectorTiles[key] = tile;
        this._getVectorTilePromise(coords).then(function (vectorTile) {
          if (self._vectorTiles[key] === tile) { // not unloaded while it was on its way
            var ctx = canvas.getContext("2d");
            ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
            draw(ctx, tile, vectorTile, self.options.vectorTileLayerStyles, coords.z);
          }
          L.Util.requestAnimFrame(function () { done(null, canvas); });
        });
        return canvas;
      },

      // The topmost shape drawn at `latlng` within `tolerance` screen pixels, or null.
      shapeAt: function (latlng, tolerance) {
        var map = this._map;
        if (!map) return null;
        for (var key in this._vectorTiles) {
          var tile = this._vectorTiles[key], c = tile.coords;
          if (c.z !== this._tileZoom) continue;
          var p = map.project(latlng, c.z).subtract(c.scaleBy(tile.size));
          if (p.x < 0 || p.y < 0 || p.x > tile.size.x || p.y > tile.size.y) continue;
          var tol = tolerance / map.getZoomScale(map.getZoom(), c.z); // screen px to tile px
          for (var i = tile.shapes.length - 1; i >= 0; i--) { // last drawn is on top
            if (hits(tile.shapes[i], p.x, p.y, tol)) return tile.shapes[i];
          }
        }
        return null;
      },

      // Every shape drawn at the current zoom, its box in client pixels (for tests).
      shapeBoxes: function () {
        var map = this._map, out = [];
        if (!map) return out;
        var box = map.getContainer().getBoundingClientRect();
        for (var key in this._vectorTiles) {
          var tile = this._vectorTiles[key], c = tile.coords;
          if (c.z !== this._tileZoom) continue;
          var origin = c.scaleBy(tile.size);
          tile.shapes.forEach(function (s) {
            var a = corner(map, origin.add([s.box[0], s.box[1]]), c.z, box);
            var b = corner(map, origin.add([s.box[2], s.box[3]]), c.z, box);
            out.push({ id: s.id, left: a.x, top: a.y, right: b.x, bottom: b.y });
          });
        }
        return out;
      },
    });
    return Layer;
  }

  function corner(map, pixel, z, box) {
    var p = map.latLngToContainerPoint(map.unproject(pixel, z));
    return L.point(p.x + box.left, p.y + box.top);
  }

  // Polygons and lines first, then points above them: an area too small for the tile's grid
  // comes as a point (gis/tiles.py), and no larger area's fill may cover its dot. Within each,
  // the groups in the order their first feature came.
  // A style function that returns the same object for the same look (tiles.js's do) spares
  // building each feature's group key: the group is found by the object.
  function draw(ctx, tile, vectorTile, styles, zoom) {
    var groups = {}, order = [], known = new Map();
    for (var name in vectorTile.layers) {
      var layer = vectorTile.layers[name], k = tile.size.x / layer.extent, style = styles[name];
      layer.features.forEach(function (f) {
        var s = typeof style === "function" ? style(f.properties, zoom) : style;
        if (!s) return;
        var kind = f.type === 1 ? "point" : f.type === 3 ? "polygon" : "line";
        var kinds = known.get(s), group = kinds && kinds[kind];
        if (!group) {
          var id = [kind, s.color, s.weight, s.opacity, s.fill, s.fillColor, s.fillOpacity, s.radius].join("|");
          group = groups[id];
          if (!group) group = groups[id] = order[order.push({ kind: kind, style: s, shapes: [] }) - 1];
          if (!kinds) known.set(s, (kinds = {}));
          kinds[kind] = group;
        }
        group.shapes.push(shape(f, kind, s, k));
        tile._features[f.id] = true;
      });
    }
    order.sort(function (a, b) { return (a.kind === "point") - (b.kind === "point"); });
    order.forEach(function (group) {
      paint(ctx, group);
      Array.prototype.push.apply(tile.shapes, group.shapes);
    });
  }

  // The decoded points are the tile's own (vectorgrid's, used by nothing else): scaled in place to
  // tile pixels and kept, without a copy of each of the tile's 250,000 vertices.
  function shape(feature, kind, style, k) {
    var rings = feature.geometry, r = kind === "point" ? style.radius || 4 : 0, w = (style.weight || 0) / 2;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (var i = 0; i < rings.length; i++) {
      for (var j = 0, ring = rings[i]; j < ring.length; j++) {
        var p = ring[j], x = (p.x *= k), y = (p.y *= k);
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
    var box = [x0 - r - w, y0 - r - w, x1 + r + w, y1 + r + w];
    return { id: feature.id, properties: feature.properties, kind: kind, rings: rings, radius: r, half: w, box: box };
  }

  // A canvas path grows slower the longer it is (building one of 100,000 vertices took 0.7 s,
  // of 20,000 a thirtieth of that): a group is filled and stroked a few thousand vertices at a time.
  var CHUNK = 4000;

  // An area no wider or taller than its outline's width is all outline: stroked, it is a blob the
  // size of its box grown by half the width each side. Stroking (joins and all) is what costs the
  // canvas most: the national hazard tile's 20,000 areas took 0.15-0.35 s to raster stroked, and
  // 0.02-0.03 s filled as below. At national zoom nearly every hazard area is such a speck (19,671
  // of the 19,696 areas of the large demo's z 7 tile), so a speck is filled as that grown box with
  // the stroke's round corners: all the stroke covers (never smaller), in its colour and opacity.
  function isSpeck(sh, w) {
    return sh.kind === "polygon" && sh.box[2] - sh.box[0] <= 2 * w && sh.box[3] - sh.box[1] <= 2 * w;
  }

  // The specks after the larger areas of their group, above their fills, as the points are.
  function specks(ctx, group, found) {
    var s = group.style;
    ctx.fillStyle = s.color;
    ctx.globalAlpha = s.opacity === undefined ? 1 : s.opacity;
    for (var i = 0; i < found.length; i += CHUNK / 4) { // a rect is four vertices
      ctx.beginPath();
      found.slice(i, i + CHUNK / 4).forEach(function (sh) {
        var b = sh.box, x = b[0], y = b[1], dx = b[2] - x, dy = b[3] - y;
        // corners rounded by half the outline's width, as the stroke's are (older browsers
        // have no roundRect: square corners, a hair larger)
        if (ctx.roundRect) ctx.roundRect(x, y, dx, dy, Math.min(sh.half, dx / 2, dy / 2));
        else ctx.rect(x, y, dx, dy);
      });
      ctx.fill("nonzero");
    }
    ctx.globalAlpha = 1;
  }

  // A point is a disc and an outline ring; the ring is filled (outer circle, inner one the other
  // way round) rather than stroked, for the same reason as the specks: the same pixels, drawn in a
  // fraction of the time. The disc first, the ring over it, as a stroke over a fill would be.
  function points(ctx, group) {
    var s = group.style, w = s.weight > 0 && s.stroke !== false ? s.weight : 0;
    function pass(colour, alpha, ring) {
      var n = 0;
      ctx.fillStyle = colour;
      ctx.globalAlpha = alpha;
      ctx.beginPath();
      group.shapes.forEach(function (sh) {
        sh.rings.forEach(function (pts) {
          pts.forEach(function (p) {
            var outer = ring ? sh.radius + w / 2 : sh.radius, inner = sh.radius - w / 2;
            ctx.moveTo(p.x + outer, p.y);
            ctx.arc(p.x, p.y, outer, 0, 2 * Math.PI);
            if (ring && inner > 0) {
              ctx.moveTo(p.x + inner, p.y);
              ctx.arc(p.x, p.y, inner, 2 * Math.PI, 0, true);
            }
            if (++n >= CHUNK / 8) { ctx.fill("nonzero"); ctx.beginPath(); n = 0; }
          });
        });
      });
      if (n) ctx.fill("nonzero");
    }
    if (s.fill) pass(s.fillColor || s.color, s.fillOpacity === undefined ? 0.2 : s.fillOpacity, false);
    if (w) pass(s.color, s.opacity === undefined ? 1 : s.opacity, true);
    ctx.globalAlpha = 1;
  }

  function paint(ctx, group) {
    if (group.kind === "point") return points(ctx, group);
    var s = group.style, fill = s.fill && group.kind !== "line", stroke = s.weight > 0 && s.stroke !== false;
    var shapes = group.shapes, found = [];
    if (group.kind === "polygon" && stroke) {
      shapes = shapes.filter(function (sh) { return isSpeck(sh, s.weight) ? !found.push(sh) : true; });
    }
    ctx.fillStyle = s.fillColor || s.color;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.weight;
    ctx.lineCap = ctx.lineJoin = "round";
    var vertices = 0;
    function flush() {
      if (fill) {
        ctx.globalAlpha = s.fillOpacity === undefined ? 0.2 : s.fillOpacity;
        // exterior rings run clockwise and holes the other way (MVT): holes stay open, and
        // overlapping areas of one group add up instead of cancelling out
        ctx.fill("nonzero");
      }
      if (stroke) {
        ctx.globalAlpha = s.opacity === undefined ? 1 : s.opacity;
        ctx.stroke();
      }
      ctx.beginPath();
      vertices = 0;
    }
    ctx.beginPath();
    shapes.forEach(function (sh) {
      sh.rings.forEach(function (ring) {
        ctx.moveTo(ring[0].x, ring[0].y);
        for (var i = 1; i < ring.length; i++) ctx.lineTo(ring[i].x, ring[i].y);
        if (sh.kind === "polygon") ctx.closePath();
        vertices += ring.length;
      });
      if (vertices >= CHUNK) flush();
    });
    if (vertices) flush();
    ctx.globalAlpha = 1;
    if (found.length) specks(ctx, group, found);
  }

  function hits(sh, x, y, tol) {
    var b = sh.box;
    if (x < b[0] - tol || x > b[2] + tol || y < b[1] - tol || y > b[3] + tol) return false;
    var near = sh.half + tol, inside = false;
    for (var r = 0; r < sh.rings.length; r++) {
      var ring = sh.rings[r];
      if (sh.kind === "point") {
        for (var p = 0; p < ring.length; p++) {
          if (Math.hypot(ring[p].x - x, ring[p].y - y) <= sh.radius + near) return true;
        }
        continue;
      }
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], c = ring[j];
        if (i === 0 && sh.kind === "line") continue; // a line's last point does not join its first
        if (segment(x, y, a, c) <= near) return true;
        if (sh.kind === "polygon" && (a.y > y) !== (c.y > y) && x < ((c.x - a.x) * (y - a.y)) / (c.y - a.y) + a.x) inside = !inside;
      }
    }
    return inside;
  }

  function segment(x, y, a, b) {
    var dx = b.x - a.x, dy = b.y - a.y, len = dx * dx + dy * dy;
    var t = len ? Math.max(0, Math.min(1, ((x - a.x) * dx + (y - a.y) * dy) / len)) : 0;
    return Math.hypot(a.x + t * dx - x, a.y + t * dy - y);
  }

  return { layer: function (url, options) { return new (layerClass())(url, options); } };
})();
