"""From a table (CSV or spreadsheet) to features: the HXL row, then the geometry, from WKT,
longitude/latitude columns, KoBoToolbox's `_geolocation` (`[lat, lon]`) or a geopoint column
(`lat lon alt accuracy`, as KoBoToolbox and ODK Central write it)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.errors import invalid
from gis.ingest.hxl import is_hashtag_row, matches
from gis.ingest.options import ReadOptions

WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
LONLAT_COLUMNS = (("longitude", "latitude"), ("lon", "lat"), ("lng", "lat"), ("long", "lat"),
                  ("x", "y"))  # fmt: skip
_NUMBER = r"[+-]?\d+(?:\.\d+)?"
_GEOPOINT = re.compile(rf"^\s*([+-]?\d+\.\d+)\s+([+-]?\d+\.\d+)(?:\s+{_NUMBER}){{0,2}}\s*$")
_GEOLOCATION = re.compile(rf"^\s*\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]\s*$")
SNIFF_VALUES = 20


def segment(column: str) -> str:
    """A header's last path segment, as KoBoToolbox (`grp/q`) and ODK Central (`grp-q`) join them."""
    return re.split(r"[/-]", column.strip())[-1].casefold()


@dataclass(frozen=True)
class GeometrySource:
    kind: str  # wkt | lonlat | geolocation | geopoint
    columns: tuple[str, ...]

    def describe(self) -> str:
        names = ", ".join(f"`{c}`" for c in self.columns)
        return {"wkt": f"WKT in {names}", "lonlat": f"longitude, latitude in {names}",
                "geolocation": f"[lat, lon] in {names}",
                "geopoint": f"geopoint (lat lon alt acc) in {names}"}[self.kind]  # fmt: skip


def table_to_frame(
    table: pd.DataFrame, detected: dict[str, object], options: ReadOptions, name: str
) -> gpd.GeoDataFrame:
    table = table.copy()
    tags: dict[str, str] = {}
    first_line = 2  # the header is line 1
    columns = [str(c) for c in table.columns]
    if is_hashtag_row(columns):
        tags = {c: c for c in columns if c.startswith("#")}
    elif len(table) and is_hashtag_row(table.iloc[0].tolist()):
        tags = {c: str(t).strip() for c, t in zip(columns, table.iloc[0]) if t not in ("", None)}
        table = table.iloc[1:].reset_index(drop=True)
        first_line = 3
    if tags:
        detected["hxl"] = True
    table = table.replace("", None)
    # Rows with nothing in them (`;;;;` lines Excel leaves at the end) are skipped, and every
    # other row keeps its spreadsheet line for the messages.
    blank = table.isna().all(axis=1).to_numpy()
    # an array, not a list: pandas deep-copies attrs on every operation
    lines = np.arange(len(table))[~blank] + first_line
    table = table[~blank].reset_index(drop=True)
    source = find_geometry(table, tags, options, name)
    decimal_comma = detected.get("decimal") == ","
    geometry, bad = _build(table, source, decimal_comma)
    table = table.drop(columns=list(source.columns))
    detected["geometry"] = source.describe()
    frame = gpd.GeoDataFrame(table, geometry=list(geometry), crs=options.crs)
    frame.attrs.update(
        detected=detected, hxl_tags=tags, lines=lines, decimal=detected.get("decimal"),
        geometry_columns=list(source.columns), crs_assumed=options.crs is None,
        unparseable_geometry_rows=bad,
    )  # fmt: skip
    return frame


def find_geometry(
    table: pd.DataFrame, tags: dict[str, str], options: ReadOptions, name: str
) -> GeometrySource:
    columns = [str(c) for c in table.columns]
    lookup = column_finder(columns, tags)
    wanted = options.mapping.geometry if options.mapping else {}
    if wanted:
        found = {k: lookup(v) for k, v in wanted.items()}
        missing = [f"`{wanted[k]}`" for k, c in found.items() if c is None]
        if missing:
            raise invalid(
                f"the mapping names {', '.join(missing)} for the geometry, but '{name}' has no "
                f"such column (it has: {_some(columns)})"
            )
        if "wkt" in found:
            return GeometrySource("wkt", (found["wkt"],))  # type: ignore[arg-type]
        if "point" in found:
            return GeometrySource("geopoint", (found["point"],))  # type: ignore[arg-type]
        return GeometrySource("lonlat", (found["lon"], found["lat"]))  # type: ignore[arg-type]
    for candidate in (*WKT_COLUMNS, "#geo+wkt"):
        if (column := lookup(candidate)) is not None:
            return GeometrySource("wkt", (column,))
    pairs = [("#geo+lon", "#geo+lat"), *LONLAT_COLUMNS]
    for lon_name, lat_name in pairs:
        lon, lat = lookup(lon_name), lookup(lat_name)
        if lon is not None and lat is not None:
            return GeometrySource("lonlat", (lon, lat))
    for column in columns:  # a form's GPS question: _gps_latitude (KoBo), gps-Latitude (ODK)
        low = column.casefold()
        if low.endswith("latitude") and low[: -len("latitude")].endswith(("_", "-")):
            partner = next(
                (c for c in columns if c.casefold() == low[: -len("latitude")] + "longitude"), None
            )
            if partner is not None:
                return GeometrySource("lonlat", (partner, column))
    if (column := lookup("_geolocation")) is not None:
        return GeometrySource("geolocation", (column,))
    for column in columns:
        sample = table[column].dropna().head(SNIFF_VALUES).tolist()
        if sample and all(isinstance(v, str) and _GEOPOINT.match(v) for v in sample):
            return GeometrySource("geopoint", (column,))
    hint = ""
    if len(columns) == 1 and any(d in columns[0] for d in ",;\t"):
        hint = " — the whole header is one column: is the delimiter right? (--delimiter , ; or tab)"
    raise invalid(
        f"'{name}' has no geometry: looked for a WKT column ({', '.join(WKT_COLUMNS)}), "
        "longitude/latitude columns (longitude+latitude, lon+lat, lng+lat, x+y, a form's "
        "*_longitude+*_latitude, HXL #geo+lon+#geo+lat), KoBoToolbox's _geolocation and a "
        f"geopoint column ('lat lon alt accuracy'); found the columns: {_some(columns)}{hint}. "
        "Name the geometry columns in a mapping ([geometry] lon/lat, point or wkt)."
    )


def column_finder(columns: list[str], tags: dict[str, str]) -> Callable[[str], str | None]:
    """A column by its exact name, its name ignoring case, its last segment (when only one column
    has it) or, for a #hashtag, by HXL's pattern rule (when only one column matches)."""

    def find(wanted: str) -> str | None:
        if wanted in columns:
            return wanted
        if wanted.startswith("#"):
            hits = [c for c, t in tags.items() if matches(wanted, t)]
            return hits[0] if len(hits) == 1 else None
        for key in (lambda c: c.casefold(), segment):
            hits = [c for c in columns if key(c) == wanted.casefold()]
            if len(hits) == 1:
                return hits[0]
        return None

    return find


def _build(
    table: pd.DataFrame, source: GeometrySource, decimal_comma: bool
) -> tuple[np.ndarray, list[tuple[int, str]]]:
    raw = table[list(source.columns)].astype(object).where(table[list(source.columns)].notna())
    given = raw.notna().any(axis=1).to_numpy()
    if source.kind == "wkt":
        texts = raw.iloc[:, 0].to_numpy()
        geometry = shapely.from_wkt(texts, on_invalid="ignore")
        ok = ~pd.isna(geometry)
    else:
        if source.kind == "lonlat":
            lon = _numbers(raw.iloc[:, 0], decimal_comma)
            lat = _numbers(raw.iloc[:, 1], decimal_comma)
        else:
            pattern = _GEOLOCATION if source.kind == "geolocation" else _GEOPOINT
            parts = raw.iloc[:, 0].astype("string").str.extract(pattern)
            lat = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float)
            lon = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float)
        ok = ~(np.isnan(lon) | np.isnan(lat))
        geometry = shapely.points(np.where(ok, lon, 0), np.where(ok, lat, 0))
        geometry[~ok] = None
    bad_rows = np.nonzero(given & ~ok)[0]
    return geometry, [
        (int(i) + 1, " ".join(str(v) for v in raw.iloc[i] if v is not None)) for i in bad_rows
    ]


def _numbers(values: pd.Series, decimal_comma: bool) -> np.ndarray:
    """Numbers from numeric cells or text (a decimal comma when the file uses one); NaN if not."""
    text = values.astype("string").str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _some(columns: list[str], n: int = 15) -> str:
    shown = ", ".join(f"`{c}`" for c in columns[:n])
    return shown + (f" … ({len(columns) - n} more)" if len(columns) > n else "") or "none"
