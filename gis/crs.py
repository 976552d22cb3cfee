"""The coordinate reference systems SafeGround serves (OGC API – Features Part 2), by URI.

Geometry is stored in EPSG:4326 with longitude first (that is CRS84). Other systems are produced
by PostGIS (`ST_Transform`) on the way out, and a bbox or filter literal given in another system is
transformed into storage on the way in — the indexed column itself is never transformed.
EPSG:4326 as the EPSG registry defines it has latitude first, so its coordinates are swapped
(`ST_FlipCoordinates`) in both directions, as Part 2 requires.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gis.errors import InvalidParameter


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    lat_first: bool  # the axis order of the CRS's definition: EPSG:4326 is latitude, longitude
    geographic: bool  # degrees (else metres)
    title: str

    @property
    def is_storage(self) -> bool:
        """Coordinates exactly as stored: no transformation, no swap."""
        return self.srid == 4326 and not self.lat_first

    @property
    def digits(self) -> int:
        """Decimals in GeoJSON output: 7 ≈ 1 cm in degrees; 4 = 0.1 mm in metres."""
        return 7 if self.geographic else 4


CRS84 = Crs("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326, False, True, "WGS 84 lon/lat")
EPSG4326 = Crs("http://www.opengis.net/def/crs/EPSG/0/4326", 4326, True, True, "WGS 84 lat/lon")
SUPPORTED: tuple[Crs, ...] = (
    CRS84,
    EPSG4326,
    Crs("http://www.opengis.net/def/crs/EPSG/0/3857", 3857, False, False, "Web Mercator"),
    Crs("http://www.opengis.net/def/crs/EPSG/0/32638", 32638, False, False, "UTM zone 38N"),
    Crs("http://www.opengis.net/def/crs/EPSG/0/32639", 32639, False, False, "UTM zone 39N"),
)
STORAGE = CRS84
URIS = tuple(c.uri for c in SUPPORTED)

_ALIASES: dict[str, Crs] = {}
for _c in SUPPORTED:
    code = _c.uri.rsplit("/", 1)[-1]
    for alias in (_c.uri, _c.uri.replace("http://", "https://"), f"[{_c.uri}]"):
        _ALIASES[alias.lower()] = _c
    if _c is not CRS84:
        _ALIASES[f"epsg:{code}"] = _c
        _ALIASES[f"urn:ogc:def:crs:epsg::{code}"] = _c
_ALIASES["crs84"] = CRS84
_ALIASES["urn:ogc:def:crs:ogc:1.3:crs84"] = CRS84
_ALIASES["ogc:crs84"] = CRS84


def parse_crs(name: str, text: str | None) -> Crs:
    """A CRS from its URI (or a common short form: EPSG:32638, CRS84); None means CRS84."""
    if text is None or text.strip() == "":
        return CRS84
    found = _ALIASES.get(text.strip().strip("<>").lower())
    if found is None:
        shown = text.strip()[:80]
        raise InvalidParameter(f"{name} '{shown}' is not supported; use one of {', '.join(URIS)}")
    return found


def to_storage(geom: sa.ColumnElement, crs: Crs) -> sa.ColumnElement:
    """A geometry given in `crs` (SRID not yet set) as stored: SRID 4326, longitude first."""
    if crs.is_storage:
        return sa.func.ST_SetSRID(geom, 4326)
    if crs.lat_first:
        return sa.func.ST_SetSRID(sa.func.ST_FlipCoordinates(geom), 4326)
    return sa.func.ST_Transform(sa.func.ST_SetSRID(geom, crs.srid), 4326)


def from_storage(geom: sa.ColumnElement, crs: Crs) -> sa.ColumnElement:
    """The stored geometry in `crs` (transformed by PostGIS; EPSG:4326 swapped to lat/lon)."""
    if crs.is_storage:
        return geom
    if crs.lat_first:
        return sa.func.ST_FlipCoordinates(geom)
    return sa.func.ST_Transform(geom, sa.literal_column(str(crs.srid)))


def content_crs_header(crs: Crs) -> dict[str, str]:
    return {"Content-Crs": f"<{crs.uri}>"}
