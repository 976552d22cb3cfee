"""Small builders for test inputs: GeoJSON features and files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def point_feature(external_id: str, lon: float, lat: float, **properties: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"external_id": external_id, "source": "test", **properties},
    }


def polygon_feature(
    external_id: str, ring: list[tuple[float, float]], **properties: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
        "properties": {"external_id": external_id, "source": "test", **properties},
    }


def square(lon: float, lat: float, size: float = 0.01) -> list[tuple[float, float]]:
    return [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat)]


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return path


def session(
    external_id: str, lon: float, lat: float, held_on: str = "2024-05-01", **extra: Any
) -> dict[str, Any]:
    return point_feature(external_id, lon, lat, held_on=held_on, **extra)


def hazard(
    external_id: str, ring: list[tuple[float, float]], status: str = "confirmed", **extra: Any
) -> dict[str, Any]:
    props = {"hazard_type": "AP_mine", "status": status, "recorded_on": "2023-03-01", **extra}
    return polygon_feature(external_id, ring, **props)
