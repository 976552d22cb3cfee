/* "Where am I": the device's position against the hazard areas drawn on this map, computed in
   the page (it works offline, from a file: everything it needs is in the file). Distances are
   geodesic (GeographicLib's Karney inverse on WGS 84) to the nearest point of the polygon's edges,
   which are straight in longitude/latitude as the map draws them and as the server measures them.
   It never says "safe": far from every mapped hazard it still shows the notice. */
SG.locate = (function () {
  "use strict";

  var COMPASS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

  function geod() {
    return window.geodesic.Geodesic.WGS84;
  }

  function inverse(lat1, lon1, lat2, lon2) {
    var r = geod().Inverse(lat1, lon1, lat2, lon2);
    return { m: r.s12, bearing: (r.azi1 + 360) % 360 };
  }

  // Ray casting in lon/lat: exact for edges straight in lon/lat (holes count by parity).
  function inRings(lon, lat, rings) {
    var inside = false;
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
        if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
      }
    });
    return inside;
  }

  function polygons(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return [geometry.coordinates];
    if (geometry.type === "MultiPolygon") return geometry.coordinates;
    return [];
  }

  // The nearest point of one polygon's edges: candidate edges found in a local equirectangular
  // plane around the user (an affine image of lon/lat, so the edges stay straight), then each
  // candidate refined along its edge by golden-section search on the geodesic distance.
  function nearestOnPolygon(lon, lat, rings) {
    var kx = Math.cos((lat * Math.PI) / 180) * 111320, ky = 110574;
    var candidates = [];
    rings.forEach(function (ring) {
      for (var i = 1; i < ring.length; i++) {
        var ax = (ring[i - 1][0] - lon) * kx, ay = (ring[i - 1][1] - lat) * ky;
        var bx = (ring[i][0] - lon) * kx, by = (ring[i][1] - lat) * ky;
        var dx = bx - ax, dy = by - ay, len = dx * dx + dy * dy;
        var t = len > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len)) : 0;
        var px = ax + t * dx, py = ay + t * dy;
        candidates.push({ d: Math.sqrt(px * px + py * py), a: ring[i - 1], b: ring[i] });
      }
    });
    candidates.sort(function (p, q) { return p.d - q.d; });
    var best = null;
    candidates.slice(0, 4).forEach(function (c) {
      function at(t) {
        var r = inverse(lat, lon, c.a[1] + t * (c.b[1] - c.a[1]), c.a[0] + t * (c.b[0] - c.a[0]));
        r.t = t;
        return r;
      }
      var lo = 0, hi = 1, g = (Math.sqrt(5) - 1) / 2;
      var x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo), f1 = at(x1), f2 = at(x2);
      for (var k = 0; k < 40; k++) {
        if (f1.m < f2.m) { hi = x2; x2 = x1; f2 = f1; x1 = hi - g * (hi - lo); f1 = at(x1); }
        else { lo = x1; x1 = x2; f1 = f2; x2 = lo + g * (hi - lo); f2 = at(x2); }
      }
      [f1, f2, at(0), at(1)].forEach(function (r) { if (!best || r.m < best.m) best = r; });
    });
    return best;
  }

  // The nearest active hazard area drawn on the map, from (lon, lat): distance 0 inside.
  function nearest(lon, lat, list) {
    var best = null;
    list.forEach(function (feature) {
      if (!feature.properties._a) return;
      polygons(feature.geometry).forEach(function (rings) {
        var r = inRings(lon, lat, rings) ? { m: 0, bearing: null, inside: true } : nearestOnPolygon(lon, lat, rings);
        if (r && (!best || r.m < best.m)) { best = r; best.feature = feature; }
      });
    });
    return best;
  }

  function metres(m) {
    return m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(1) + " km";
  }

  function bearing(b) {
    return Math.round(b) % 360 + "\u00b0 (" + COMPASS[Math.round(b / 45) % 8] + ")";
  }

  // What to say about a position: every warning that applies, worst first; never "safe".
  function assess(options, found, accuracy) {
    var danger = options.dangerM, slack = accuracy + (options.locate.toleranceM || 0);
    var out = { warnings: [], lines: [] };
    var status = found && found.feature.properties[options.locate.statusField];
    var what = found ? "a " + (status ? String(status).toLowerCase() + " " : "") + "hazard area" : "";
    if (found && found.inside) {
      out.warnings.push("inside");
      out.lines.push("You are INSIDE " + what + ". Stop. Go back exactly the way you came and call the mine-action operator.");
    } else if (found && found.m - slack <= danger) {
      out.warnings.push("near");
      out.lines.push("DANGER: " + what + " is " + metres(found.m) + " away, bearing " + bearing(found.bearing) +
        " \u2014 within " + metres(danger) + " once the position's accuracy is counted.");
    }
    if (accuracy > danger) {
      out.warnings.push("poor");
      out.lines.push("Your position is too uncertain (\u00b1" + metres(accuracy) + ") to tell whether you are within " +
        metres(danger) + " of a hazard area: assume you may be.");
    }
    if (!out.warnings.length) {
      out.lines.push(found ? "Nearest active hazard area on this map: " + metres(found.m) + ", bearing " + bearing(found.bearing) + "."
                           : "No active hazard area is drawn on this map.");
    }
    out.level = out.warnings[0] || (found ? "far" : "none");
    return out;
  }

  function control(map, options, features, configs) {
    var banner = document.getElementById("sg-locate");
    var key = options.locate.layer, watch = null, marker = null, circle = null;
    var button = L.DomUtil.create("button", "sg-locate-button");
    button.type = "button";
    button.title = "Where am I? Show my position and the nearest hazard area";
    button.setAttribute("aria-label", button.title);
    button.textContent = "Where am I?";

    function show(lines, level, warnings) {
      banner.hidden = false;
      banner.setAttribute("data-sg-level", level);
      banner.setAttribute("data-sg-warnings", warnings.join(" "));
      banner.className = "sg-locate sg-locate-" + level;
      banner.textContent = "";
      lines.forEach(function (line, i) {
        var p = document.createElement("p");
        p.textContent = line;
        if (i === 0 && warnings.length) p.className = "sg-locate-warning";
        banner.appendChild(p);
      });
    }

    function onPosition(position) {
      var lat = position.coords.latitude, lon = position.coords.longitude;
      var accuracy = position.coords.accuracy;
      var latlng = L.latLng(lat, lon);
      if (!marker) {
        circle = L.circle(latlng, { radius: accuracy, weight: 1, color: "#1565c0", fillOpacity: 0.12, interactive: false }).addTo(map);
        marker = L.circleMarker(latlng, { radius: 7, weight: 3, color: "#fff", fillColor: "#1565c0", fillOpacity: 1, interactive: false, className: "sg-me" }).addTo(map);
      } else {
        marker.setLatLng(latlng);
        circle.setLatLng(latlng).setRadius(accuracy);
      }
      var lines = [];
      var result;
      if (!configs[key]) {
        result = { level: "hidden", warnings: ["hidden"], lines: ["Hazard areas are NOT on this map (your access does not include them): it cannot warn you about them."] };
      } else {
        var found = nearest(lon, lat, features[key] || []);
        result = assess(options, found, accuracy);
        if (found) {
          window.safeground.located = { m: found.m, bearing: found.bearing, inside: !!found.inside, id: found.feature.id, accuracy: accuracy };
        } else {
          window.safeground.located = { m: null, accuracy: accuracy };
        }
      }
      lines = result.lines.concat([
        "Your position: " + lat.toFixed(5) + ", " + lon.toFixed(5) + " (\u00b1" + metres(accuracy) + ").",
        options.notSafe,
      ]);
      show(lines, result.level, result.warnings);
    }

    function onError(error) {
      show(["Your position is not available (" + error.message + "): this map cannot tell where you are.", options.notSafe],
           "unavailable", ["unavailable"]);
    }

    L.DomEvent.on(button, "click", function (e) {
      L.DomEvent.stop(e);
      if (watch !== null) {
        navigator.geolocation.clearWatch(watch);
        watch = null;
        button.classList.remove("sg-active");
        return;
      }
      if (!navigator.geolocation) return onError({ message: "this browser has no geolocation" });
      button.classList.add("sg-active");
      show(["Finding your position\u2026", options.notSafe], "waiting", []);
      watch = navigator.geolocation.watchPosition(onPosition, onError, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
    });
    var c = L.control({ position: "topright" });
    c.onAdd = function () {
      var box = L.DomUtil.create("div", "leaflet-bar sg-locate-control");
      box.appendChild(button);
      L.DomEvent.disableClickPropagation(box);
      return box;
    };
    c.addTo(map);
  }

  return { control: control, nearest: nearest, assess: assess };
})();
