/* The canvas that big inline polygon layers are drawn on (e.g. the national file's 20,000 hazard
   areas): part of SG (map.js). A zoom step repaints one canvas instead of moving thousands of SVG
   paths; the canvas keeps every drawn shape in its _layers (tests count them), and Leaflet's own
   hit testing answers clicks on them (their popups).

   Leaflet's canvas projects every vertex of every shape on each zoom step (twice for a step
   without animation: on zoomend and on viewreset), clips each shape three times, and fills and
   strokes each shape on its own, though it paints only those in view. This one projects and clips
   each shape once per view, and the vertices only of shapes whose box meets the canvas (the view
   and its padding); a shape elsewhere keeps only its box (its two corners projected: Web Mercator
   is monotonic, so that box is exact) until a pan brings it near. (Painting the shapes of one style as
   one path, as tilecanvas.js does, was measured too, and was slower here: Chromium's software
   canvas took 1.2 to 1.6 times as long to paint the national hazard areas that way.) */
SG.canvas = (function () {
  "use strict";

  var Canvas = null; // built on first use, when Leaflet is there

  function canvasClass() {
    if (Canvas) return Canvas;
    Canvas = L.Canvas.extend({
      _onZoomEnd: function () {}, // the moveend or viewreset that follows projects, once

      _reset: function () { // viewreset: as Leaflet's, less each shape's own _reset (projection)
        this._update();
        this._updateTransform(this._center, this._zoom);
        if (this._postponeUpdatePaths) {
          this._postponeUpdatePaths = false;
          this._updatePaths();
        }
      },

      _updatePaths: function () {
        if (this._postponeUpdatePaths) return;
        var map = this._map, origin = map.getPixelOrigin();
        var view = [map.getZoom(), origin.x, origin.y].join(":"), bounds = this._bounds;
        this._redrawBounds = null;
        for (var id in this._layers) {
          var layer = this._layers[id];
          if (layer._sgView !== view && !project(map, layer, view, bounds)) continue;
          layer._update();
        }
        this._redraw();
      },
    });
    return Canvas;
  }

  // Project `layer` for `view` if it meets `bounds` (true), else give it only its box (false).
  function project(map, layer, view, bounds) {
    var b = layer._bounds;
    if (!b || !b.isValid() || !layer._rawPxBounds) { // not a polygon or line: as Leaflet does
      layer._project();
      layer._sgView = view;
      return true;
    }
    if (layer._sgBox !== view) {
      layer._rawPxBounds = L.bounds(map.latLngToLayerPoint(b.getNorthWest()),
                                    map.latLngToLayerPoint(b.getSouthEast()));
      layer._updateBounds();
      layer._sgBox = view;
    }
    var w = layer.options.weight || 0;
    if (!layer._pxBounds.intersects(L.bounds(bounds.min.subtract([w, w]), bounds.max.add([w, w])))) {
      layer._rings = layer._parts = [];
      layer._sgView = null; // projected for no view, not even one it was projected for before
      return false;
    }
    layer._project();
    layer._sgView = view;
    return true;
  }

  // The canvas reaches a tenth of the view beyond each edge (Leaflet's default): a pan starts on
  // drawn shapes, and whatever it brings in is drawn when it ends. Half a view each side made the
  // step into zoom 10 of the national file paint twelve times the shapes (14,000 of 20,000).
  var PADDING = 0.1;

  return function (pane) {
    return new (canvasClass())({ pane: pane || "overlayPane", padding: PADDING });
  };
})();
