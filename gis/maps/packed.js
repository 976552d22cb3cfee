/* The inline layers' features as the server packs them (gis/maps/packing.py), read from the page's
   JSON data blocks: part of SG (map.js). */
SG.add = (function () {
  "use strict";

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

  return add;
})();

// A layer's features from the page's JSON data block of that id (gis/maps/elements.py).
SG.data = function (id) {
  "use strict";
  return JSON.parse(document.getElementById(id).textContent);
};
