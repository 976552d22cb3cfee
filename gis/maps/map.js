/* SafeGround's map helpers: styles, markers, popups and panels, configured per layer from the
   layer specs (see gis/maps/folium_map.py). Text from the data is only ever set with textContent,
   never parsed as HTML, so a name that looks like markup stays a name. The labels' placement
   (labels.js), the packed features' decoder (packed.js), the big layers' canvas (canvas.js), the
   vector-tile layers (tiles.js) and the locate button (locate.js) extend SG, loaded after this
   file (gis/maps/elements.py). */
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
      var marker = new (markerClass())(latlng, {
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


  // A point's popup and hover tooltip are bound when its marker first enters the map, or when
  // either is asked for: a clustered marker may never enter it, and binding each of a visit
  // map's 2,500 sessions up front (a popup, a tooltip and eight listeners each) was a fifth of
  // its opening. Bound before the marker can be clicked or hovered, they behave the same.
  var Marker = null;
  var DEFERRED = ["getPopup", "openPopup", "togglePopup", "setPopupContent",
                  "getTooltip", "openTooltip", "toggleTooltip", "setTooltipContent"];

  function markerClass() {
    if (Marker) return Marker;
    var base = L.Marker.prototype, own = {
      onAdd: function (map) {
        base.onAdd.call(this, map);
        bindNow(this);
      },
    };
    DEFERRED.forEach(function (name) {
      own[name] = function () {
        bindNow(this);
        return base[name].apply(this, arguments);
      };
    });
    Marker = L.Marker.extend(own);
    return Marker;
  }

  function bindNow(layer) {
    var deferred = layer._sgBind;
    if (!deferred) return;
    layer._sgBind = null;
    deferred(layer);
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
      function interactive(l) {
        if (cfg.fields.length) {
          l.bindPopup(function () {
            var box = table(cfg, props);
            if (cfg.shade) shadeRows(box, cfg.shade, feature.id);
            return box;
          }, { maxWidth: 320 });
        }
        if (!cfg.label && cfg.tip) {
          l.bindTooltip(function () { return span(props[cfg.tip] || cfg.title); }, { sticky: true });
        }
      }
      if (layer instanceof markerClass() && !layer._map) layer._sgBind = interactive;
      else interactive(layer);
      if (cfg.label) { // a permanent label in the layer's colour: a distance, a date, a name
        // a hazard area's says its status too ("confirmed · 1.2 km")
        var words = [cfg.labelBy && props[cfg.labelBy], props[cfg.label]].filter(function (w) {
          return w !== null && w !== undefined && w !== "";
        });
        var label = span(words.join(" \u00b7 "));
        label.style.borderColor = colour(cfg, props);
        layer.bindTooltip(new SG.labels.Label({
          permanent: true, direction: "top", offset: SG.labels.SIDES.top,
          className: "sg-label sg-label-" + cfg.key + (cfg.placeLabel ? " sg-label-place" : ""),
        }).setContent(label));
      }
    };
  }


  // MarkerCluster keeps the markers and bubbles of a view padded by its own size on each side
  // (nine views' worth); on the national file's activity layers that is thousands of elements
  // made and laid out each zoom step. A quarter view each side is enough for a pan to start on
  // drawn markers; the rest appear when it ends, as they do on a phone (where MarkerCluster keeps
  // only the view). Hazard areas are never clustered: this changes no hazard.
  var CLUSTER_PAD = 0.25;

  function clusterReach() {
    var proto = L.MarkerClusterGroup && L.MarkerClusterGroup.prototype;
    if (!proto || proto._sgReach) return;
    proto._sgReach = true;
    var own = proto._getExpandedVisibleBounds;
    proto._getExpandedVisibleBounds = function () {
      if (!this.options.removeOutsideVisibleBounds || L.Browser.mobile) return own.call(this);
      return this._checkBoundsMaxLat(this._map.getBounds().pad(CLUSTER_PAD));
    };
  }

  function clusterIcon(key) {
    clusterReach(); // called as a cluster layer is made, with MarkerCluster loaded
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
      SG.labels.declutter(map);
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


  function start(map, pageOptions) {
    configure(pageOptions);
    if (options.locate) SG.locate.control(map, options, features, configs);
    frame(map);
    gates.forEach(function (update) { update(); });
    SG.labels.declutter(map);
    map.on("zoomend", function () { SG.labels.declutter(map); });
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
    ready: ready, start: start, panels: panels, panes: panes, gate: gate,
    configure: configure, phone: phone, text: text,
    // shared with the files that extend SG (the same objects, not copies)
    internal: { configs: configs, options: options, gates: gates, span: span, table: table },
  };
})();
