/* Big layers drawn from the API's vector tiles, with a warning that stays when a tile fails:
   part of SG (map.js). */
(function () {
  "use strict";

  var configs = SG.internal.configs, gates = SG.internal.gates;
  var span = SG.internal.span, table = SG.internal.table, gate = SG.gate;

  // A big layer drawn from the API's vector tiles (leaflet.vectorgrid, from npm). The tiles hold
  // the stored values (codes, numbers), which the popup shows as they are. A protected layer's
  // tiles are read with the page's HttpOnly session cookie (api/map_session.py), sent by fetch.
  var tiledLayers = {};
  function tiled(map, key, url, minZoom) {
    var cfg = configs[key];
    var hazard = cfg.pane === "sgHazards";
    var styles = {}, looks = {};
    styles[cfg.tileLayer] = function (props, zoom) {
      var c = (cfg.tileBy && cfg.colors[String(props[cfg.tileBy])]) || cfg.color;
      var key = c + "|" + zoom; // one object per look: tilecanvas.js groups features by it
      return looks[key] || (looks[key] = look(c, zoom));
    };
    function look(c, zoom) {
      if (cfg.shape && cfg.point) {
        return { radius: zoom < 9 ? 3 : 5, weight: 1, color: "#ffffff", fill: true, fillColor: c, fillOpacity: 0.9 };
      }
      // never thinner than a few pixels, however small the area at this zoom; an area too small
      // for the tile's grid comes as a point (gis/tiles.py), drawn as a dot of a few pixels
      var weight = hazard ? (zoom < 10 ? 3 : 2) : cfg.weight;
      return { color: c, weight: weight, opacity: 0.9, fill: cfg.fillOpacity > 0, fillColor: c, fillOpacity: cfg.fillOpacity, radius: 4 };
    }
    var layer = SG.tileCanvas.layer(url, {
      vectorTileLayerStyles: styles, pane: cfg.pane || "overlayPane", maxNativeZoom: 16,
      className: "sg-tiled sg-tiled-" + key, fetchOptions: { credentials: "same-origin" },
    });
    watchTiles(map, layer, cfg, hazard);
    tiledLayers[key] = layer;
    layer._sgItems = url.split("/tiles/")[0] + "/items/";
    layer._sgHazard = hazard;
    clicks(map);
    // added once the map is framed (SG.start), a gated one only when zoomed in far enough; the
    // hazard areas first, the other layers once the hazards' opening tiles are drawn
    if (minZoom) gate(map, layer, minZoom);
    else if (hazard) {
      hazardTiles = layer;
      gates.push(function () { waitTiles(key, layer); layer.addTo(map); });
    } else gates.push(function () { waitTiles(key, layer); afterHazards(function () { layer.addTo(map); }); });
    return layer;
  }

  // The hazard areas are what a map must show first: their tiles are fetched, decoded and drawn
  // before any other layer's, which would otherwise share the server, the browser's six
  // connections and its main thread with them. Every tiled layer is declared before SG.start
  // runs the gates, so by then the hazard layer is known (none: the others go at once). A hazard
  // layer that never finishes (a tile that hangs) holds the others back only so long.
  var hazardTiles = null, held = null, HOLD_MS = 8000;
  function afterHazards(add) {
    if (!hazardTiles || !hazardTiles._map) return add();
    if (!held) {
      held = [];
      var release = function () {
        var waiting = held || [];
        held = [];
        hazardTiles = null;
        clearTimeout(timer);
        waiting.forEach(function (fn) { fn(); });
      };
      var timer = setTimeout(release, HOLD_MS);
      hazardTiles.once("load", release);
    }
    held.push(add);
  }

  // A click or a hover over a tiled feature: the tiles are drawn on canvases that let the pointer
  // through, so the map's container asks each tiled layer, hazard areas first (their pane is
  // above every other layer's), for the shape under the pointer. A hazard area answers a click
  // before anything drawn under it; another tiled layer only when no marker or popup was hit.
  var TOLERANCE = 4; // screen px around a shape that still count as on it
  var listening = {};
  function clicks(map) {
    var box = map.getContainer(), id = L.stamp(map);
    if (listening[id]) return;
    listening[id] = true;
    var down = null;
    function hit(e) {
      if (e.target.closest && e.target.closest(".leaflet-control-container, .leaflet-popup-pane")) return null;
      var above = e.target.closest && e.target.closest(".leaflet-marker-pane, .leaflet-tooltip-pane");
      var latlng = map.mouseEventToLatLng(e), found = null;
      Object.keys(tiledLayers).map(function (k) { return [k, tiledLayers[k]]; })
        .sort(function (a, b) { return b[1]._sgHazard - a[1]._sgHazard; })
        .some(function (pair) {
          var layer = pair[1], cfg = configs[pair[0]];
          if (!map.hasLayer(layer) || !cfg.fields.length || (above && !layer._sgHazard)) return false;
          var shape = layer.shapeAt(latlng, TOLERANCE);
          if (shape) found = { cfg: cfg, layer: layer, shape: shape, latlng: latlng };
          return !!shape;
        });
      return found;
    }
    box.addEventListener("mousedown", function (e) { down = [e.clientX, e.clientY]; }, true);
    box.addEventListener("click", function (e) {
      if (down && Math.hypot(e.clientX - down[0], e.clientY - down[1]) > 3) return; // a drag
      var found = hit(e);
      if (!found) return;
      e.stopPropagation(); // the hazard area is drawn above whatever lies under it
      tiledPopup(map, found.cfg, found.layer._sgItems + found.shape.id, found.latlng);
    }, true);
    var pointer = false;
    box.addEventListener("mousemove", function (e) {
      var on = !e.buttons && !!hit(e);
      if (on !== pointer) L.DomUtil[on ? "addClass" : "removeClass"](box, "sg-on-tiled");
      pointer = on;
    });
  }

  // A tile at low zoom carries only what its style reads (gis/tiles.py), so a tiled feature's
  // popup reads the feature's fields from its item, with the page's session cookie as the tiles
  // (same access rules, same hidden fields): "loading…" first, an error text if that fails.
  function tiledPopup(map, cfg, itemUrl, latlng) {
    var box = document.createElement("div");
    box.className = "sg-popup";
    box.appendChild(span(cfg.title, "sg-popup-title"));
    box.appendChild(span("loading\u2026", "sg-popup-loading"));
    var popup = L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(box).openOn(map);
    function failed(why) {
      var el = document.createElement("div");
      el.className = "sg-popup";
      el.appendChild(span(cfg.title, "sg-popup-title"));
      var msg = span("\u26a0 This feature's details could not be loaded (" + why + ") \u2014 try again or reload the page.", "sg-popup-error");
      msg.setAttribute("role", "alert");
      el.appendChild(msg);
      popup.setContent(el);
    }
    fetch(itemUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } }).then(function (r) {
      if (!r.ok) return failed("HTTP " + r.status);
      return r.json().then(function (f) { popup.setContent(table(cfg, f.properties || {})); });
    }).catch(function (err) { failed(err && err.name === "SyntaxError" ? "unreadable answer" : "network error"); });
  }

  // When the tiles of each layer shown at the opening view are drawn, and of all of them
  // (bench/maps.py reads these).
  var pendingTiles = 0;
  function waitTiles(key, layer) {
    pendingTiles++;
    layer.once("load", function () {
      var marks = window.safeground;
      if (!marks) return;
      marks.tilesMsBy = marks.tilesMsBy || {};
      marks.tilesMsBy[key] = performance.now();
      if (--pendingTiles === 0) marks.tilesMs = performance.now();
    });
  }

  // vectorgrid draws a refused or failed tile as an empty one: blank, as if nothing were there.
  // Each tile's fetch is checked instead, and any failure shows a warning that stays (a map must
  // never let a missing hazard layer pass for safe ground).
  function watchTiles(map, layer, cfg, hazard) {
    var fetchTile = layer._getVectorTilePromise;
    function failed() {
      tileWarning(map, cfg, hazard);
      return new Response(null, { status: 503 }); // drawn empty, the warning says why
    }
    layer._getVectorTilePromise = function (coords) {
      var saved = window.fetch;
      window.fetch = function (url, init) {
        return saved.call(window, url, init).then(function (r) { return r.ok ? r : failed(); }, failed);
      };
      try { return fetchTile.call(this, coords); } finally { window.fetch = saved; }
    };
  }

  function tileWarning(map, cfg, hazard) {
    var box = map.getContainer();
    var id = "sg-tile-failed-" + cfg.key;
    if (document.getElementById(id)) return;
    var el = document.createElement("div");
    el.id = id;
    el.className = "sg-tile-failed" + (hazard ? " sg-tile-failed-hazard" : "");
    el.setAttribute("role", "alert");
    el.textContent = "\u26a0 " + cfg.title + (hazard
      ? ": hazard layer could not be loaded \u2014 reload the page. Blank on this map does not mean safe."
      : " could not be loaded \u2014 reload the page.");
    el.style.cssText = "position:absolute;z-index:1001;left:50%;top:56px;transform:translateX(-50%);" +
      "max-width:90%;padding:8px 12px;background:#fff3cd;color:#5c0000;border:3px solid #b00000;" +
      "font:bold 15px/1.3 sans-serif;box-shadow:0 2px 8px rgba(0,0,0,.4);pointer-events:none";
    box.appendChild(el);
  }

  // The distinct feature ids a tiled layer draws now (for tests: compared with SQL's).
  function tiledIds(key) {
    var layer = tiledLayers[key], ids = {};
    if (!layer) return [];
    for (var tile in layer._vectorTiles) {
      for (var id in layer._vectorTiles[tile]._features || {}) ids[id] = true;
    }
    return Object.keys(ids).map(Number);
  }

  // The boxes (client px) of the shapes a tiled layer draws at this zoom (for tests).
  function tiledBoxes(key) {
    var layer = tiledLayers[key];
    return layer ? layer.shapeBoxes() : [];
  }

  SG.tiled = tiled;
  SG.tiledIds = tiledIds;
  SG.tiledBoxes = tiledBoxes;
})();
