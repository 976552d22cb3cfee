"""The real reference layers (districts, villages) read from the files in `data/azerbaijan/`.

Also what the other demo modules build on: the villages as plain arrays, name folding for
geocoding, and `layer_frame`, which hands a layer's records over in the shape the importer
expects (exactly the layer's properties plus `external_id`, `source` and `geometry`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers import REGISTRY

CRS = "EPSG:4326"

DISTRICTS_SOURCE = (
    "Who's On First (whosonfirst-data-admin-az @ e174b861), Mesoshapes CC0; "
    "names Statoids CC BY / ISO 3166-2 (pycountry)"
)
VILLAGES_SOURCE = "Who's On First / GeoNames (CC BY 4.0)"
ABANDONED = ("PPLQ", "PPLW", "PPLH")  # GeoNames: abandoned, destroyed, historical places

# Azerbaijani letters that Unicode decomposition does not fold (ə, ı) or folds unevenly (İ).
_AZ_FOLD = str.maketrans({"ə": "a", "Ə": "a", "ı": "i", "İ": "i"})


def fold_name(name: str) -> str:
    """A matching key for place names: case, Azerbaijani letters and diacritics folded away.

    'Tatlı', 'TATLI' and 'Tatli' all become 'tatli', so a name typed without the Azerbaijani
    alphabet (or romanised by GeoNames) still finds its place.
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_AZ_FOLD))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def as_multipolygons(geometries: Any) -> np.ndarray:
    """Every (Multi)Polygon as a MultiPolygon, since the polygon layers store only that type."""
    geoms = np.asarray(geometries, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    return shapely.multipolygons(parts, indices=owner)


def dates_from_days(days: np.ndarray, origin: str) -> np.ndarray:
    """`origin` plus whole days, as `datetime.date` objects: the importer wants dates, not times."""
    return (np.datetime64(origin, "D") + np.asarray(days, dtype="int64")).astype(object)


def layer_frame(
    layer: str, columns: Mapping[str, Any], geometry: Any, source: Any
) -> gpd.GeoDataFrame:
    """A layer's records as a GeoDataFrame whose columns are exactly what the layer imports.

    The column list comes from the layer's spec, so a property added to or renamed in a layer
    fails here, loudly, instead of at import. Text columns are plain objects with None for
    missing values (pandas' own string dtype would hand the importer NaN).
    """
    expected = REGISTRY[layer].property_names
    given = set(columns) - {"external_id"}
    if given != set(expected):
        raise ValueError(
            f"{layer}: columns do not match the layer's properties "
            f"(missing {sorted(set(expected) - given)}, unknown {sorted(given - set(expected))})"
        )
    data = {"external_id": columns["external_id"], **{n: columns[n] for n in expected}}
    data["source"] = source
    frame = pd.DataFrame(data)
    for name in frame.columns:
        if pd.api.types.is_string_dtype(frame[name].dtype) and frame[name].dtype != object:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    if not frame["external_id"].is_unique:
        raise ValueError(f"{layer}: external_id values are not unique")
    return gpd.GeoDataFrame(frame, geometry=np.asarray(geometry, dtype=object), crs=CRS)


def _nullable_text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), None)


def read_districts(path: str | Path) -> gpd.GeoDataFrame:
    """The 78 districts (rayons and cities) of `aze_adm1_districts.geojson`, as that layer."""
    raw = gpd.read_file(path).to_crs(CRS)
    columns = {
        "external_id": "wof:" + raw["wof_id"].astype("int64").astype(str),
        "name": raw["name_en"],
        "name_az": _nullable_text(raw["name_az"]),
        "name_az_ascii": _nullable_text(raw["name_az_ascii"]),
        "code": raw["hasc"],
        "iso_code": _nullable_text(raw["iso_3166_2"]),
        "unit_type": raw["unit_type"],
        "population_1999": raw["population_1999"].astype("Int64"),
    }
    return layer_frame(
        "districts", columns, as_multipolygons(raw.geometry.values), DISTRICTS_SOURCE
    )


def read_villages(path: str | Path) -> gpd.GeoDataFrame:
    """The 5,012 populated places of `aze_places.geojson` as the villages layer."""
    raw = gpd.read_file(path).to_crs(CRS)
    columns = {
        "external_id": "geonames:" + raw["geonames_id"].astype("int64").astype(str),
        "name": raw["name"],
        "name_az": _nullable_text(raw["name_az"]),
        "name_en": _nullable_text(raw["name_en"]),
        "name_ru": _nullable_text(raw["name_ru"]),
        "district_code": raw["district_hasc"],
        "district_name": raw["district_name_en"],
        "population": raw["population"].astype("Int64"),
        "feature_code": _nullable_text(raw["feature_code"]),
        "geonames_id": raw["geonames_id"].astype("int64"),
    }
    return layer_frame("villages", columns, raw.geometry.values, VILLAGES_SOURCE)


@dataclass(frozen=True)
class Places:
    """The villages layer as arrays for generators, ordered by GeoNames id so that the order of
    the input rows does not change what is generated. `label` is the Azerbaijani name where
    known, else the romanised one; `lived_in` is False for abandoned or destroyed places."""

    lon: np.ndarray
    lat: np.ndarray
    code: np.ndarray
    label: np.ndarray
    lived_in: np.ndarray

    @classmethod
    def of(cls, villages: gpd.GeoDataFrame) -> Places:
        v = villages.sort_values("geonames_id", kind="stable")
        label = v["name_az"].where(v["name_az"].notna(), v["name"])
        return cls(
            lon=v.geometry.x.to_numpy(), lat=v.geometry.y.to_numpy(),
            code=v["district_code"].to_numpy(dtype=object), label=label.to_numpy(dtype=object),
            lived_in=~v["feature_code"].isin(ABANDONED).to_numpy(),
        )  # fmt: skip

    def weights(self, table: dict[str, float], default: float = 0.0) -> np.ndarray:
        """Per-place weights by district; abandoned or destroyed places weigh nothing."""
        return np.array([table.get(c, default) for c in self.code], dtype=float) * self.lived_in
