"""Exporting a layer to GeoJSON, GeoPackage or CSV files that GDAL and the importer read back."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
import pyogrio
import sqlalchemy as sa

from gis.features import feature_collection_sql
from gis.spec import LayerSpec

ExportFormat = Literal["geojson", "gpkg", "csv"]
SUFFIX = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv"}


def export_layer(
    conn: sa.Connection,
    spec: LayerSpec,
    fmt: ExportFormat,
    out: Path,
    fields: tuple[str, ...],
    *,
    hxl: bool = False,
) -> int:
    """Write the layer's live features (not soft-deleted) with the given fields; returns the count.

    `hxl` adds the layer's HXL hashtag row under a CSV's header.
    """
    if fmt == "geojson":
        text, count = conn.execute(feature_collection_sql(spec, fields)).one()
        out.write_text(text, encoding="utf-8")
        return int(count)
    frame = read_layer(conn, spec, fields)
    if fmt == "gpkg":
        out.unlink(missing_ok=True)
        pyogrio.write_dataframe(frame, out, driver="GPKG", layer=spec.name)
    else:
        _write_csv(frame, spec, out, hxl)
    return len(frame)


def read_layer(conn: sa.Connection, spec: LayerSpec, fields: tuple[str, ...]) -> gpd.GeoDataFrame:
    t = spec.table
    query = (
        sa.select(t.c.external_id, *(t.c[f] for f in fields), t.c.source, t.c.geom)
        .where(t.c.deleted_at.is_(None))
        .order_by(t.c.id)
    )
    frame = gpd.read_postgis(query, conn, geom_col="geom")
    for name in fields:
        if isinstance(t.c[name].type, sa.Integer):
            frame[name] = frame[name].astype("Int64")
    return frame.rename_geometry("geometry")


def _write_csv(frame: gpd.GeoDataFrame, spec: LayerSpec, out: Path, hxl: bool) -> None:
    table = frame.drop(columns="geometry")
    if spec.geometry_type == "Point":
        table.insert(1, "longitude", frame.geometry.x.round(7))
        table.insert(2, "latitude", frame.geometry.y.round(7))
        tags = {"longitude": "#geo+lon", "latitude": "#geo+lat"}
    else:
        table["wkt"] = frame.geometry.to_wkt(rounding_precision=7)
        tags = {"wkt": "#geo+wkt"}
    if hxl:
        tags |= dict(spec.hxl)
        hashtags = [tags.get(c, "") for c in table.columns]
        table = pd.concat([pd.DataFrame([hashtags], columns=table.columns), table])
    table.to_csv(out, index=False)
