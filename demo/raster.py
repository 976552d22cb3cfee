"""The demo's population raster: MODELLED, not observed.

Exposure figures need people per place on the ground; no open population grid ships with the demo,
so `safeground demo load` builds one: each district's 1999 census total is spread over its lived-in
GeoNames places (towns keep their GeoNames population, other places share the rest) and put in the
~1 km cell (30 arc-seconds, as in GPW and WorldPop's 1 km grids) each place falls in; a district
without places gets its total spread evenly over its cells. The GeoTIFF says so in its tags, and the
exposure answer repeats it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import rasterio.features
import shapely
from rasterio.transform import from_origin

from demo.reference import ABANDONED
from gis.analysis.exposure import DESCRIPTION_TAG, MODELLED_TAG

CELL_DEG = 1 / 120  # 30 arc-seconds: about 0.93 km north-south, 0.7 km east-west at 40° N
DESCRIPTION = (
    "MODELLED population per cell (~1 km, 30 arc-seconds), NOT observed: 1999 census district "
    "totals spread over each district's lived-in GeoNames places (towns keep their GeoNames "
    "population, the other places share the rest evenly); districts without a 1999 total hold "
    "none. For demonstrating the exposure analysis only."
)


def build_population_raster(
    districts: gpd.GeoDataFrame, villages: gpd.GeoDataFrame, path: Path
) -> Path:
    """Write the modelled raster to `path` (atomically, so a reader never sees half a file)."""
    minx, miny, maxx, maxy = districts.total_bounds
    west, north = np.floor(minx / CELL_DEG) * CELL_DEG, np.ceil(maxy / CELL_DEG) * CELL_DEG
    width = int(np.ceil((maxx - west) / CELL_DEG))
    height = int(np.ceil((north - miny) / CELL_DEG))
    transform = from_origin(west, north, CELL_DEG, CELL_DEG)
    grid = np.zeros((height, width), dtype="float64")
    lived_in = villages[~villages["feature_code"].isin(ABANDONED)]
    lon, lat = lived_in.geometry.x.to_numpy(), lived_in.geometry.y.to_numpy()
    known = lived_in["population"].astype("Float64").fillna(0).to_numpy(dtype="float64")
    cols = np.clip(((lon - west) / CELL_DEG).astype(int), 0, width - 1)
    rows = np.clip(((north - lat) / CELL_DEG).astype(int), 0, height - 1)
    taken = np.zeros(len(lived_in), dtype=bool)  # a place on a shared border counts once
    totals = districts["population_1999"].astype("Float64").fillna(0).to_numpy(dtype="float64")
    for geometry, total in zip(districts.geometry.values, totals, strict=True):
        if total <= 0:  # no 1999 figure
            continue
        inside = shapely.contains_xy(geometry, lon, lat) & ~taken
        taken |= inside
        if inside.any():
            weights = _weights(known[inside], total)
            np.add.at(grid, (rows[inside], cols[inside]), total * weights / weights.sum())
        else:
            cells = rasterio.features.geometry_mask([geometry], grid.shape, transform, invert=True)
            if cells.any():
                grid[cells] += total / cells.sum()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".tif", dir=path.parent)
    os.close(fd)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": -1.0,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(grid.astype("float32"), 1)
        dst.update_tags(
            **{
                MODELLED_TAG: "true",
                DESCRIPTION_TAG: DESCRIPTION,
                "SAFEGROUND_SOURCE": "1999 census district totals (Statoids) and "
                "GeoNames places via Who's On First; built by `safeground demo load`",
                "UNITS": "people per cell",
            }
        )
        dst.set_band_description(1, "population (MODELLED)")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def _weights(known: np.ndarray, total: float) -> np.ndarray:
    """How a district's total is shared among its places (`known`: GeoNames population or 0).

    GeoNames knows the population of towns, rarely of villages: places of known size keep it, and
    the rest of the district's total is shared evenly by the others — unless the towns already
    hold it all, then every other place weighs as much as the smallest town.
    """
    unknown = known <= 0
    if unknown.all():
        return np.ones(len(known))
    if not unknown.any():
        return known
    rest = total - known.sum()
    fill = rest / unknown.sum() if rest > 0 else known[~unknown].min()
    return np.where(unknown, fill, known)
