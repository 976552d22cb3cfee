/* SafeGround's map helpers: styles, markers, popups and panels, configured per layer from the
   layer specs (see gis/maps/folium_map.py). Text from the data is only ever set with textContent,
   never parsed as HTML, so a name that looks like markup stays a name. */
var SG = (function () {
  "use strict";

  var configs = {};
  var features = {}; // by layer key, in the order the database sent them (e.g. nearest first)
  var options = { dangerM: 100 };
  var gates = [];

  function define(layerConfigs) {
    for (var key in layerConfigs) configs[key] = layerConfigs[key];
  }

  function colour(cfg, props) {
    return (cfg.by && cfg.colors[String(props[cfg.by])]) || cfg.color;
  }

  function text(value) {
    return value === null || value === undefined || value === "" ? "\u2014" : String(value);
  }

  function span(value, className) {
    var el = document.createElement("span");
    if (className) el.className = className;
    el.textContent = text(value);
    return el;
  }

  // A shaded district (the overview's choropleth): its figure's class colour, or the hatch that
  // says "no data — NOT safe"; never left blank, which would read as safe.
  function shaded(cfg, feature) {
    var v = cfg.shade.values[String(feature.id)];
    var known = v && v[1] !== null && v[1] !== undefined;
    return {
      color: cfg.color, weight: cfg.weight, opacity: 0.9, fill: true,
      fillColor: known ? cfg.shade.colours[v[1]] : "url(#sg-hatch)",
      fillOpacity: known ? cfg.shade.fillOpacity : 1,
      className: "sg-p sg-p-" + cfg.key + (known ? " sg-shaded" : " sg-no-data"),
    };
  }

  function shadeRows(box, shade, id) {
    var v = shade.values[String(id)];
    var t = box.querySelector("table");
    [[shade.title, v ? v[0] : shade.noData], ["Definition", shade.definition], ["Window", shade.window]]
      .forEach(function (pair) {
        var row = t.insertRow();
        var th = document.createElement("th");
        th.textContent = pair[0];
        row.appendChild(th);
        row.insertCell().textContent = text(pair[1]);
        row.className = "sg-shade-row";
      });
  }

  function style(key) {
    var cfg = configs[key];
    return function (feature) {
      if (cfg.shade) return shaded(cfg, feature);
      var c = colour(cfg, feature.properties);
      return {
        color: cfg.fillOpacity > 0 ? c : cfg.color, weight: cfg.weight, opacity: 0.9,
        fillColor: c, fillOpacity: cfg.fillOpacity, fill: cfg.fillOpacity > 0,
        className: "sg-p sg-p-" + cfg.key,
      };
    };
  }

  function point(key) {
    var cfg = configs[key];
    return function (feature, latlng) {
      var dot = document.createElement("i");
      dot.style.background = colour(cfg, feature.properties);
      if (cfg.shape === "ring") dot.style.borderColor = dot.style.background;
      var size = cfg.emphasis ? 18 : 12;
      if (cfg.sizeBy) { // e.g. villages by population: 12 px for none, up to 30 px
        var v = parseFloat(String(feature.properties[cfg.sizeBy]).replace(/,/g, ""));
        if (v > 0) size = Math.round(cfg.sizeMax ? 12 + 18 * Math.min(1, v / cfg.sizeMax)
                                                 : Math.min(30, 12 + Math.sqrt(v) / 12));
      }
      var marker = L.marker(latlng, {
        icon: L.divIcon({
          html: dot, iconSize: [size, size],
          className: "sg-m sg-m-" + cfg.key + " sg-shape-" + cfg.shape + (cfg.emphasis ? " sg-emphasis" : ""),
        }),
        keyboard: false, riseOnHover: true, zIndexOffset: cfg.emphasis ? 1000 : 0,
      });
      if (!cfg.rings || !cfg.rings.length) return marker;
      // distance rings (metres) around the point, e.g. a coverage analysis' within_m
      var parts = cfg.rings.map(function (r) {
        return L.circle(latlng, {
          radius: r, weight: 1, color: dot.style.background, fill: false, dashArray: "4 4",
          interactive: false, className: "sg-ring sg-ring-" + cfg.key,
        });
      });
      parts.push(marker);
      var group = L.featureGroup(parts);
      // L.GeoJSON styles each feature's layer: the rings keep their own style and class
      group.setStyle = function () { return group; };
      return group;
    };
  }

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

  function table(cfg, props) {
    var box = document.createElement("div");
    box.className = "sg-popup";
    box.appendChild(span(cfg.title, "sg-popup-title"));
    var t = document.createElement("table");
    cfg.fields.forEach(function (f) {
      var row = t.insertRow();
      var th = document.createElement("th");
      th.textContent = cfg.labels[f] || f;
      row.appendChild(th);
      row.insertCell().textContent = text(props[f]);
    });
    box.appendChild(t);
    return box;
  }

  function bind(key) {
    var cfg = configs[key];
    var list = features[key] = features[key] || [];
    return function (feature, layer) {
      var props = feature.properties;
      list.push(feature);
      if (cfg.fields.length) {
        layer.bindPopup(function () {
          var box = table(cfg, props);
          if (cfg.shade) shadeRows(box, cfg.shade, feature.id);
          return box;
        }, { maxWidth: 320 });
      }
      if (cfg.label) { // a permanent label in the layer's colour: a distance, a date, a name
        // a hazard area's says its status too ("confirmed · 1.2 km")
        var words = [cfg.labelBy && props[cfg.labelBy], props[cfg.label]].filter(function (w) {
          return w !== null && w !== undefined && w !== "";
        });
        var label = span(words.join(" \u00b7 "));
        label.style.borderColor = colour(cfg, props);
        layer.bindTooltip(new Label({
          permanent: true, direction: "top", offset: SIDES.top,
          className: "sg-label sg-label-" + cfg.key + (cfg.placeLabel ? " sg-label-place" : ""),
        }).setContent(label));
      } else if (cfg.tip) {
        layer.bindTooltip(function () { return span(props[cfg.tip] || cfg.title); }, { sticky: true });
      }
    };
  }

  // A polyline in Google's encoding (PostGIS ST_AsEncodedPolyline): lat/lon deltas in whole
  // 10^-digits degrees, five bits a character; back as GeoJSON [lon, lat] pairs.
  function decode(text, digits) {
    var out = [], i = 0, lat = 0, lon = 0, factor = Math.pow(10, digits);
    function next() {
      var b, shift = 0, result = 0;
      do { b = text.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
      return result & 1 ? ~(result >> 1) : result >> 1;
    }
    while (i < text.length) {
      lat += next();
      lon += next();
      out.push([lon / factor, lat / factor]);
    }
    return out;
  }

  // A layer's features as collect() packs them (gis/maps/data.py): shared field names, repeated
  // values as indexes into per-field lists, shapes as [lon, lat], encoded rings or GeoJSON.
  function add(layer, data) {
    var features = data.rows.map(function (row) {
      var props = {}, g = row[1];
      data.keys.forEach(function (k, i) {
        var v = row[i + 2], dict = data.dicts[k];
        props[k] = dict ? dict[v] : v;
      });
      var geometry = data.packed !== null
        ? { type: "MultiPolygon", coordinates: g.map(function (part) {
            return part.map(function (ring) { return decode(ring, data.packed); });
          }) }
        : Array.isArray(g) ? { type: "Point", coordinates: g } : g;
      return { type: "Feature", id: row[0], geometry: geometry, properties: props };
    });
    layer.addData({ type: "FeatureCollection", features: features });
  }

  // Big polygon layers are drawn on one canvas: a zoom step repaints it, instead of moving
  // thousands of SVG paths. The canvas keeps every drawn shape in its _layers (tests count them).
  function canvas(pane) {
    return L.canvas({ pane: pane || "overlayPane", padding: 0.5 });
  }

  function clusterIcon(key) {
    return function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 100 ? "small" : n < 1000 ? "medium" : "large";
      return L.divIcon({
        html: "<div><span>" + n + "</span></div>",
        className: "marker-cluster marker-cluster-" + size + " sg-c sg-c-" + key,
        iconSize: L.point(40, 40),
      });
    };
  }

  // The panels are plain HTML in the page (readable even if a script fails); here they become
  // Leaflet controls, so they stack with the zoom, scale and layer controls instead of covering them.
  function panel(map, id, position, first) {
    var el = document.getElementById(id);
    if (!el) return;
    el.querySelectorAll("[data-sg-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        var open = el.classList.toggle("sg-open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    });
    var control = L.control({ position: position });
    control.onAdd = function () {
      L.DomEvent.disableClickPropagation(el);
      L.DomEvent.disableScrollPropagation(el);
      return el;
    };
    control.addTo(map);
    if (first && el.parentNode) el.parentNode.insertBefore(el, el.parentNode.firstChild);
  }

  // Desktop: title top left, legend bottom left, notice bottom right. Phone (< 600 px): the
  // title a bar at the top, the notice a one-line bar at the bottom with the legend button and
  // the scale above it, so the middle of the screen stays clear for the map.
  function panels(map) {
    panel(map, "sg-title", "topleft", true);
    var scale = L.control.scale({ imperial: false, maxWidth: phone() ? 100 : 160 });
    if (phone()) {
      panel(map, "sg-notice", "bottomright", false);
      panel(map, "sg-legend", "bottomright", false);
      scale.setPosition("bottomright").addTo(map);
    } else {
      scale.addTo(map);
      panel(map, "sg-legend", "bottomleft", false);
      panel(map, "sg-notice", "bottomright", false);
    }
  }

  // Hazard areas get a pane of their own above markers and clusters (below labels and popups),
  // so no activity symbol or cluster bubble ever covers one.
  function panes(map) {
    map.createPane("sgHazards").style.zIndex = 640;
  }

  // A layer shown only from a zoom on (e.g. villages, off at national zoom).
  function gate(map, layer, minZoom) {
    if (!minZoom) return;
    function update() {
      if (map.getZoom() >= minZoom) { if (!map.hasLayer(layer)) map.addLayer(layer); }
      else if (map.hasLayer(layer)) map.removeLayer(layer);
    }
    map.on("zoomend", update);
    gates.push(update); // run once the map is framed (SG.start), not at the provisional view
  }

  // A big layer drawn from the API's vector tiles (leaflet.vectorgrid, from npm). The tiles hold
  // the stored values (codes, numbers), which the popup shows as they are. A protected layer's
  // tiles are read with the page's HttpOnly session cookie (api/map_session.py), sent by fetch.
  var tiledLayers = {};
  function tiled(map, key, url, minZoom) {
    var cfg = configs[key];
    var hazard = cfg.pane === "sgHazards";
    var styles = {};
    styles[cfg.tileLayer] = function (props, zoom) {
      var c = (cfg.tileBy && cfg.colors[String(props[cfg.tileBy])]) || cfg.color;
      if (cfg.shape && cfg.point) {
        return { radius: zoom < 9 ? 3 : 5, weight: 1, color: "#ffffff", fill: true, fillColor: c, fillOpacity: 0.9 };
      }
      // never thinner than a few pixels, however small the area at this zoom; an area too small
      // for the tile's grid comes as a point (gis/tiles.py), drawn as a dot of a few pixels
      var weight = hazard ? (zoom < 10 ? 3 : 2) : cfg.weight;
      return { color: c, weight: weight, opacity: 0.9, fill: cfg.fillOpacity > 0, fillColor: c, fillOpacity: cfg.fillOpacity, radius: 4 };
    };
    var layer = L.vectorGrid.protobuf(url, {
      vectorTileLayerStyles: styles, interactive: true, pane: cfg.pane || "overlayPane",
      // the drawn path shares the feature's properties object (not its id): the click reads it there
      getFeatureId: function (f) { f.properties[TILE_ID] = f.id; return f.id; }, maxNativeZoom: 16,
      className: "sg-tiled sg-tiled-" + key, fetchOptions: { credentials: "same-origin" },
    });
    watchTiles(map, layer, cfg, hazard);
    tiledLayers[key] = layer;
    var items = url.split("/tiles/")[0] + "/items/";
    layer.on("click", function (e) {
      var id = (e.layer.properties || {})[TILE_ID];
      if (!cfg.fields.length || id === undefined) return;
      tiledPopup(map, cfg, items + id, e.latlng);
    });
    // added once the map is framed (SG.start), a gated one only when zoomed in far enough
    if (minZoom) gate(map, layer, minZoom);
    else gates.push(function () { waitTiles(key, layer); layer.addTo(map); });
    return layer;
  }

  // A tile at low zoom carries only what its style reads (gis/tiles.py), so a tiled feature's
  // popup reads the feature's fields from its item, with the page's session cookie as the tiles
  // (same access rules, same hidden fields): "loading…" first, an error text if that fails.
  var TILE_ID = "sg:id"; // no field is named so (fields are SQL identifiers)
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

  function configure(extra) {
    for (var k in extra) options[k] = extra[k];
  }

  function phone() {
    return window.matchMedia("(max-width: 600px)").matches;
  }

  // The panels' corners, as insets (px) from the map's edges: above/below (vertical) or beside
  // (horizontal) every visible control, whichever lets the area of interest be drawn larger.
  function clearOfPanels(map, bounds) {
    var box = map.getContainer().getBoundingClientRect();
    var top = 0, bottom = 0, left = 0, right = 0, margin = 8;
    map.getContainer().querySelectorAll(".leaflet-control-container .leaflet-control").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (!r.width || !r.height || getComputedStyle(el).visibility === "hidden") return;
      var corner = el.parentNode.className;
      if (/leaflet-top/.test(corner)) top = Math.max(top, r.bottom - box.top);
      else bottom = Math.max(bottom, box.bottom - r.top);
      if (/leaflet-left/.test(corner)) left = Math.max(left, r.right - box.left);
      else right = Math.max(right, box.right - r.left);
    });
    var vertical = { paddingTopLeft: [margin, top + margin], paddingBottomRight: [margin, bottom + margin] };
    var horizontal = { paddingTopLeft: [left + margin, margin], paddingBottomRight: [right + margin, margin] };
    function zoom(o) {
      var w = box.width - o.paddingTopLeft[0] - o.paddingBottomRight[0];
      var h = box.height - o.paddingTopLeft[1] - o.paddingBottomRight[1];
      if (w < 40 || h < 40) return -Infinity;
      return map.getBoundsZoom(bounds, false, L.point(box.width - w, box.height - h));
    }
    return zoom(horizontal) > zoom(vertical) ? horizontal : vertical;
  }

  function frame(map) {
    if (!options.aoi) return;
    var bounds = L.latLngBounds(options.aoi);
    map.invalidateSize({ pan: false });
    var o = clearOfPanels(map, bounds);
    o.animate = false;
    map.fitBounds(bounds, o);
  }

  // Paper: the panels leave the map (the print section below it says what they said), so the map
  // is framed again on the area of interest, whatever the sheet's orientation.
  function onPrint(map) {
    var printing = window.matchMedia("print");
    function refit() {
      frame(map);
      declutter(map);
      document.documentElement.setAttribute("data-sg-print-fit", printing.matches ? "1" : "0");
    }
    if (printing.addEventListener) printing.addEventListener("change", refit);
    window.addEventListener("beforeprint", refit);
    window.addEventListener("afterprint", refit);
  }

  function factsTable() {
    var o = options.facts;
    var table = document.getElementById("sg-facts-table");
    if (!o || !table) return;
    var cfg = configs[o.layer], list = features[o.layer] || [];
    table.querySelector("caption").textContent = o.title + " (" + list.length + ")";
    var head = table.querySelector("thead tr"), body = table.querySelector("tbody");
    o.fields.forEach(function (f) {
      var th = document.createElement("th");
      th.textContent = cfg.labels[f] || f;
      head.appendChild(th);
    });
    list.forEach(function (feature) {
      var row = body.insertRow();
      row.setAttribute("data-sg-id", String(feature.id));
      o.fields.forEach(function (f) { row.insertCell().textContent = text(feature.properties[f]); });
    });
    if (!list.length) {
      var empty = body.insertRow().insertCell();
      empty.colSpan = o.fields.length;
      empty.textContent = o.empty;
    }
    table.hidden = false;
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

  function start(map, pageOptions) {
    configure(pageOptions);
    if (options.locate) SG.locate.control(map, options, features, configs);
    frame(map);
    gates.forEach(function (update) { update(); });
    declutter(map);
    map.on("zoomend", function () { declutter(map); });
    onPrint(map);
    factsTable();
  }

  // Ready means drawn: the map framed, every inline layer (every hazard area within reach) and
  // label in the page, and that frame painted — a task queued from the frame's animation
  // callback runs only after its paint.
  function ready(map) {
    window.safeground = { map: map, aoi: options.aoi || null };
    map.whenReady(function () {
      requestAnimationFrame(function () {
        setTimeout(function () {
          window.safeground.readyMs = performance.now();
          document.documentElement.setAttribute("data-sg-ready", "1");
        }, 0);
      });
    });
  }

  return {
    define: define, style: style, point: point, bind: bind, clusterIcon: clusterIcon, panel: panel,
    add: add, canvas: canvas,
    ready: ready, start: start, panels: panels, panes: panes, gate: gate, tiled: tiled, tiledIds: tiledIds, configure: configure, phone: phone, text: text,
  };
})();
