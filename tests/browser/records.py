"""Hand-made records for the map tests, written straight into a layer's table."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from layers import REGISTRY

XSS = "<img src=x onerror=alert(1)>"
BRACES = "{{ 7*7 }}"


def insert(conn: sa.Connection, layer: str, wkt: str, **values: object) -> int:
    """A row of `layer` with geometry `wkt` (EPSG:4326); returns its id."""
    table = REGISTRY[layer].table
    values.setdefault("external_id", f"test-{uuid.uuid4().hex[:10]}")
    values.setdefault("source", "test")
    return conn.execute(
        sa.insert(table)
        .values(geom=sa.func.ST_GeomFromText(wkt, 4326), **values)
        .returning(table.c.id)
    ).scalar_one()


def point(lon: float, lat: float) -> str:
    return f"POINT({lon} {lat})"


def square(lon: float, lat: float, size: float) -> str:
    """A MULTIPOLYGON square with its south-west corner at lon, lat."""
    ring = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat)]
    return "MULTIPOLYGON(((" + ", ".join(f"{x} {y}" for x, y in ring) + ")))"
