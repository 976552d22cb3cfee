"""The features of a map layer as map.js's SG.add unpacks them (gis/maps/data.py packs them):
shared keys, repeated values as indexes into per-key lists, polygons as encoded polylines."""

from __future__ import annotations

import json
import re
from typing import Any

from gis.maps.data import LayerData


def decode(text: str, digits: int) -> list[list[float]]:
    """Google's encoded polyline (PostGIS ST_AsEncodedPolyline) as [lon, lat] pairs."""
    out, i, lat, lon, factor = [], 0, 0, 0, 10**digits

    def step() -> int:
        nonlocal i
        shift = result = 0
        while True:
            b = ord(text[i]) - 63
            i += 1
            result |= (b & 31) << shift
            shift += 5
            if b < 32:
                return ~(result >> 1) if result & 1 else result >> 1

    while i < len(text):
        lat += step()
        lon += step()
        out.append([lon / factor, lat / factor])
    return out


def features(layer: LayerData) -> list[dict[str, Any]]:
    return unpack(json.loads(layer.packed))


def in_page(html: str) -> list[list[dict[str, Any]]]:
    """Every inline layer's features in a rendered page (each JSON data block `SG.add` reads)."""
    decoder, found = json.JSONDecoder(), []
    for match in re.finditer(r'<script type="application/json" id="[A-Za-z0-9_]+">', html):
        found.append(unpack(decoder.raw_decode(html, match.end())[0]))
    return found


def unpack(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for row in data["rows"]:
        props = {}
        for i, key in enumerate(data["keys"]):
            value, values = row[i + 2], data["dicts"].get(key)
            props[key] = values[value] if values is not None else value
        shape = row[1]
        if data["packed"] is not None:
            rings = [[decode(r, data["packed"]) for r in part] for part in shape]
            geometry = {"type": "MultiPolygon", "coordinates": rings}
        elif isinstance(shape, list):
            geometry = {"type": "Point", "coordinates": shape}
        else:
            geometry = shape
        found.append({"type": "Feature", "id": row[0], "geometry": geometry, "properties": props})
    return found
