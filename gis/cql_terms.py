"""The vocabulary gis/cql.py compiles: the spatial and temporal operators CQL2 defines, as SQL,
and the check of a filter's geometry literals before they reach SQL (a valid GeoJSON shape,
finite coordinates, in range for the filter's CRS and its axis order)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import shapely
import shapely.geometry
import sqlalchemy as sa

from gis.crs import Crs
from gis.errors import InvalidParameter
from gis.params import shown

SPATIAL = {
    "s_intersects": "ST_Intersects", "s_within": "ST_Within", "s_contains": "ST_Contains",
    "s_disjoint": "ST_Disjoint", "s_equals": "ST_Equals", "s_touches": "ST_Touches",
    "s_crosses": "ST_Crosses", "s_overlaps": "ST_Overlaps",
}  # fmt: skip
UNITS_M = {"meters": 1.0, "metres": 1.0, "m": 1.0, "kilometers": 1000.0, "kilometres": 1000.0,
            "km": 1000.0}  # fmt: skip

# Allen's interval relations, as CQL2 defines its temporal operators; (s, e) of each operand.
Ends = sa.ColumnElement
TEMPORAL: dict[str, Callable[[Ends, Ends, Ends, Ends], sa.ColumnElement[bool]]] = {
    "t_after": lambda s1, e1, s2, e2: s1 > e2,
    "t_before": lambda s1, e1, s2, e2: e1 < s2,
    "t_contains": lambda s1, e1, s2, e2: sa.and_(s1 < s2, e1 > e2),
    "t_disjoint": lambda s1, e1, s2, e2: sa.or_(s1 > e2, e1 < s2),
    "t_during": lambda s1, e1, s2, e2: sa.and_(s1 > s2, e1 < e2),
    "t_equals": lambda s1, e1, s2, e2: sa.and_(s1 == s2, e1 == e2),
    "t_finishedby": lambda s1, e1, s2, e2: sa.and_(s1 < s2, e1 == e2),
    "t_finishes": lambda s1, e1, s2, e2: sa.and_(s1 > s2, e1 == e2),
    "t_intersects": lambda s1, e1, s2, e2: sa.and_(s1 <= e2, e1 >= s2),
    "t_meets": lambda s1, e1, s2, e2: e1 == s2,
    "t_metby": lambda s1, e1, s2, e2: s1 == e2,
    "t_overlappedby": lambda s1, e1, s2, e2: sa.and_(s1 > s2, s1 < e2, e1 > e2),
    "t_overlaps": lambda s1, e1, s2, e2: sa.and_(s1 < s2, e1 > s2, e1 < e2),
    "t_startedby": lambda s1, e1, s2, e2: sa.and_(s1 == s2, e1 > e2),
    "t_starts": lambda s1, e1, s2, e2: sa.and_(s1 == s2, e1 < e2),
}


def literal_shape(node: dict[str, Any], crs: Crs) -> shapely.Geometry:
    """The shape of a GeoJSON geometry literal, or an InvalidParameter saying what is wrong."""
    try:
        shape = shapely.geometry.shape(node)
    except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.ShapelyError):
        raise InvalidParameter(
            f"filter: {shown(json.dumps(node, default=str))} is not a valid GeoJSON geometry"
        ) from None
    coords = shapely.get_coordinates(shape)
    if shape.is_empty or not all(math.isfinite(v) for v in coords.ravel()):
        raise InvalidParameter(
            "filter: a geometry is empty or has coordinates that are not numbers"
        )
    if crs.geographic:
        first, second = (
            (coords[:, 1], coords[:, 0]) if crs.lat_first else (coords[:, 0], coords[:, 1])
        )
        if (abs(first) > 180).any() or (abs(second) > 90).any():
            raise InvalidParameter(
                f"filter: coordinates out of range for {crs.uri} "
                f"({'lat, lon' if crs.lat_first else 'lon, lat'} order)"
            )
    if not shape.is_valid:
        raise InvalidParameter(f"filter: invalid geometry ({shapely.is_valid_reason(shape)[:120]})")
    return shape
