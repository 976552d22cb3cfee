/* SafeGround's map helpers: styles, markers, popups and panels, configured per layer from the
   layer specs (see gis/maps/folium_map.py). Text from the data is only ever set with textContent,
   never parsed as HTML, so a name that looks like markup stays a name. */
var SG = (function () {
  "use strict";

  var configs = {};

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

  function style(key) {
    var cfg = configs[key];
    return function (feature) {
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
    return function (feature, layer) {
      var props = feature.properties;
      if (cfg.fields.length) {
        layer.bindPopup(function () { return table(cfg, props); }, { maxWidth: 320 });
      }
      if (cfg.label) { // a permanent label in the layer's colour: a distance, a date
        var label = span(props[cfg.label]);
        label.style.borderColor = colour(cfg, props);
        layer.bindTooltip(label, {
          permanent: true, direction: "top", offset: [0, -8], className: "sg-label",
        });
      } else if (cfg.tip) {
        layer.bindTooltip(function () { return span(props[cfg.tip] || cfg.title); }, { sticky: true });
      }
    };
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
    var control = L.control({ position: position });
    control.onAdd = function () {
      L.DomEvent.disableClickPropagation(el);
      L.DomEvent.disableScrollPropagation(el);
      return el;
    };
    control.addTo(map);
    if (first && el.parentNode) el.parentNode.insertBefore(el, el.parentNode.firstChild);
  }

  function ready(map) {
    window.safeground = { map: map };
    map.whenReady(function () {
      requestAnimationFrame(function () {
        window.safeground.readyMs = performance.now();
        document.documentElement.setAttribute("data-sg-ready", "1");
      });
    });
  }

  return {
    define: define, style: style, point: point, bind: bind, clusterIcon: clusterIcon, panel: panel, ready: ready,
  };
})();
