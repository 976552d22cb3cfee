/* A vector-tile layer drawn on one canvas per tile, in a few batched paths: part of SG (map.js).
   leaflet.vectorgrid makes a Leaflet path object per feature and fills and strokes each on its
   own, which for the national hazard tile (about 20,000 areas) took most of a second of the
   page's main thread before the hazards showed. Here the tile's features are grouped by style,
   each group filled and stroked a few thousand vertices at a time; the shapes are kept (tile pixels) to answer a
   click or a hover, and the ids drawn (SG.tiledIds). Decoding is vectorgrid's (Pbf, vector-tile). */
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
  function draw(ctx, tile, vectorTile, styles, zoom) {
    var groups = {}, order = [];
    for (var name in vectorTile.layers) {
      var layer = vectorTile.layers[name], k = tile.size.x / layer.extent, style = styles[name];
      layer.features.forEach(function (f) {
        var s = typeof style === "function" ? style(f.properties, zoom) : style;
        if (!s) return;
        var kind = f.type === 1 ? "point" : f.type === 3 ? "polygon" : "line";
        var id = [kind, s.color, s.weight, s.opacity, s.fill, s.fillColor, s.fillOpacity, s.radius].join("|");
        var group = groups[id];
        if (!group) group = groups[id] = order[order.push({ kind: kind, style: s, shapes: [] }) - 1];
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

  function shape(feature, kind, style, k) {
    var rings = feature.geometry.map(function (ring) {
      return ring.map(function (p) { return [p.x * k, p.y * k]; });
    });
    var r = kind === "point" ? style.radius || 4 : 0, w = (style.weight || 0) / 2;
    var box = [Infinity, Infinity, -Infinity, -Infinity];
    rings.forEach(function (ring) {
      ring.forEach(function (p) {
        box[0] = Math.min(box[0], p[0] - r - w); box[1] = Math.min(box[1], p[1] - r - w);
        box[2] = Math.max(box[2], p[0] + r + w); box[3] = Math.max(box[3], p[1] + r + w);
      });
    });
    return { id: feature.id, properties: feature.properties, kind: kind, rings: rings, radius: r, half: w, box: box };
  }

  // A canvas path grows slower the longer it is (building one of 100,000 vertices took 0.7 s,
  // of 20,000 a thirtieth of that): a group is filled and stroked a few thousand vertices at a time.
  var CHUNK = 4000;

  function paint(ctx, group) {
    var s = group.style, fill = s.fill && group.kind !== "line", stroke = s.weight > 0 && s.stroke !== false;
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
    group.shapes.forEach(function (sh) {
      sh.rings.forEach(function (ring) {
        if (sh.kind === "point") {
          ring.forEach(function (p) { ctx.moveTo(p[0] + sh.radius, p[1]); ctx.arc(p[0], p[1], sh.radius, 0, 2 * Math.PI); });
        } else {
          ctx.moveTo(ring[0][0], ring[0][1]);
          for (var i = 1; i < ring.length; i++) ctx.lineTo(ring[i][0], ring[i][1]);
          if (sh.kind === "polygon") ctx.closePath();
        }
        vertices += ring.length;
      });
      if (vertices >= CHUNK) flush();
    });
    if (vertices) flush();
    ctx.globalAlpha = 1;
  }

  function hits(sh, x, y, tol) {
    var b = sh.box;
    if (x < b[0] - tol || x > b[2] + tol || y < b[1] - tol || y > b[3] + tol) return false;
    var near = sh.half + tol, inside = false;
    for (var r = 0; r < sh.rings.length; r++) {
      var ring = sh.rings[r];
      if (sh.kind === "point") {
        for (var p = 0; p < ring.length; p++) {
          if (Math.hypot(ring[p][0] - x, ring[p][1] - y) <= sh.radius + near) return true;
        }
        continue;
      }
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], c = ring[j];
        if (i === 0 && sh.kind === "line") continue; // a line's last point does not join its first
        if (segment(x, y, a, c) <= near) return true;
        if (sh.kind === "polygon" && (a[1] > y) !== (c[1] > y) && x < ((c[0] - a[0]) * (y - a[1])) / (c[1] - a[1]) + a[0]) inside = !inside;
      }
    }
    return inside;
  }

  function segment(x, y, a, b) {
    var dx = b[0] - a[0], dy = b[1] - a[1], len = dx * dx + dy * dy;
    var t = len ? Math.max(0, Math.min(1, ((x - a[0]) * dx + (y - a[1]) * dy) / len)) : 0;
    return Math.hypot(a[0] + t * dx - x, a[1] + t * dy - y);
  }

  return { layer: function (url, options) { return new (layerClass())(url, options); } };
})();
