"""Edits through the API: GeoJSON bodies into the import path, one-feature replace, soft delete.

Every write goes through the same validation as a file import (`ingest.import_frame`), so a body
that the CLI would refuse is refused here too, with the same per-feature errors, and nothing is
written. Deletes are soft (deleted_at), so partners syncing incrementally learn of them.
"""

from __future__ import annotations

import geopandas as gpd
import orjson
import pandas as pd
import shapely
import shapely.errors
import shapely.geometry
import sqlalchemy as sa

from gis.analysis import pairs
from gis.errors import InvalidInput, NotFound, RowError, invalid
from gis.ingest import ImportReport, import_frame
from gis.settings import ImportSettings
from gis.spec import LayerSpec

_BAD_GEOMETRY = (
    shapely.errors.GEOSException,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
)


def geojson_frame(body: bytes) -> gpd.GeoDataFrame:
    """A Feature or FeatureCollection as a frame (one row per feature, properties as columns)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"the body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise invalid("the body must be a GeoJSON Feature or FeatureCollection object")
    kind = doc.get("type")
    if kind == "Feature":
        features = [doc]
    elif kind == "FeatureCollection" and isinstance(doc.get("features"), list):
        features = doc["features"]
    else:
        raise invalid(
            f"the body must be a GeoJSON Feature or FeatureCollection (its type is {str(kind)[:40]!r}, "
            "or it has no features list)"
        )
    errors: list[RowError] = []
    properties: list[dict[str, object]] = []
    geometries: list[shapely.Geometry | None] = []
    for row, feature in enumerate(features, start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append(RowError(row, None, "not a GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            errors.append(RowError(row, "properties", "properties must be an object"))
            continue
        geometry = feature.get("geometry")
        shape = None
        if geometry is not None:
            try:
                shape = shapely.geometry.shape(geometry)
            except _BAD_GEOMETRY as exc:
                errors.append(
                    RowError(row, "geometry", f"not a GeoJSON geometry ({str(exc)[:100]})")
                )
                continue
        properties.append(props)
        geometries.append(shape)
    if errors:
        raise InvalidInput(errors)
    table = pd.DataFrame(properties, dtype=object) if properties else pd.DataFrame()
    frame = gpd.GeoDataFrame(
        table, geometry=gpd.GeoSeries(geometries, crs="EPSG:4326"), crs="EPSG:4326"
    )
    frame.attrs["single_feature"] = kind == "Feature"
    return frame


def feature_id_of(conn: sa.Connection, spec: LayerSpec, external_id: str) -> int | None:
    t = spec.table
    return conn.execute(sa.select(t.c.id).where(t.c.external_id == external_id)).scalar()


def replace_feature(
    conn: sa.Connection,
    spec: LayerSpec,
    feature_id: int,
    frame: gpd.GeoDataFrame,
    limits: ImportSettings,
    *,
    actor: str,
) -> ImportReport:
    """Replace a live feature's properties and geometry (fields left out become empty).

    Its external_id stays: it is the source system's identity, so a body naming another one is
    refused rather than silently re-keying the row.
    """
    t = spec.table
    current = conn.execute(
        sa.select(t.c.external_id, t.c.source)
        .where(t.c.id == feature_id, t.c.deleted_at.is_(None))
        .with_for_update()
    ).first()
    if current is None:
        raise NotFound(f"no feature '{feature_id}' in collection '{spec.name}'")
    if len(frame) != 1:
        raise invalid(f"a replace takes exactly one Feature; the body holds {len(frame)}")
    given = frame["external_id"].iloc[0] if "external_id" in frame.columns else None
    if given is not None and not pd.isna(given) and str(given).strip() != current.external_id:
        raise InvalidInput(
            [
                RowError(
                    1, "external_id", f"cannot change external_id (it is '{current.external_id}')"
                )
            ]
        )
    frame = frame.assign(external_id=current.external_id)
    return import_frame(
        conn, spec, frame, limits, filename=None, actor=actor, default_source=current.source
    )


def soft_delete(conn: sa.Connection, spec: LayerSpec, feature_id: int) -> None:
    t = spec.table
    done = conn.execute(
        sa.update(t)
        .where(t.c.id == feature_id, t.c.deleted_at.is_(None))
        .values(deleted_at=sa.func.now(), updated_at=sa.func.now())
    ).rowcount
    if not done:
        raise NotFound(f"no feature '{feature_id}' in collection '{spec.name}'")
    pairs.after_write(conn, spec)  # the analyses' measured pairs follow, in this transaction
