"""Writes (editor role): POST/PUT/DELETE features and file imports, each audited in its transaction.

The editor check runs before the layer look-up: a write without a key is 401 and with a lower role
403 whatever the layer, and an unknown layer is 404 only to an editor.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import EditorDep, EngineDep, LayerDep, SettingsDep
from api.responses import GEOJSON, JSON, Links
from api.routes.ogc.items import parse_feature_id
from api.upload import read_body, receive_file
from gis.access import Principal, audit
from gis.edit import feature_id_of, geojson_frame, replace_feature, soft_delete
from gis.errors import invalid
from gis.ingest import (
    ImportReport,
    ReadOptions,
    import_file,
    import_frame,
    load_mapping,
    ready_mappings,
)
from gis.items import read_item
from gis.settings import ImportSettings
from gis.spec import LayerSpec

router = APIRouter(tags=["Writes (editor role)"])
GEOJSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            GEOJSON: {
                "schema": {
                    "type": "object",
                    "description": "a GeoJSON Feature or FeatureCollection",
                }
            }
        },
    }
}


async def _body(request: Request, settings: SettingsDep) -> bytes:
    return await read_body(request, settings.imports.max_upload_mb)


BodyDep = Annotated[bytes, Depends(_body)]
DryRun = Annotated[bool, Query(description="validate and report, write nothing")]
RestoreDeleted = Annotated[
    bool,
    Query(description="bring deleted features back when a row names one (refused otherwise)"),
]


def _report(report: ImportReport, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(report.as_dict()), status, headers=headers, media_type=JSON)


@router.post("/collections/{layer}/items", summary="Add or update features (upsert by external_id)",
             openapi_extra=GEOJSON_BODY)  # fmt: skip
def create_items(
    request: Request,
    principal: EditorDep,
    spec: LayerDep,
    body: BodyDep,
    engine: EngineDep,
    settings: SettingsDep,
    dry_run: DryRun = False,
    restore_deleted: RestoreDeleted = False,
) -> Response:
    frame = geojson_frame(body)
    single = frame.attrs["single_feature"]
    with engine.begin() as conn:
        report = import_frame(
            conn, spec, frame, settings.imports, filename="api", actor=principal.actor,
            default_source=f"api: {principal.actor}", dry_run=dry_run,
            restore_deleted=restore_deleted,
        )  # fmt: skip
        location = None
        if single and not dry_run:
            row_id = feature_id_of(conn, spec, str(frame["external_id"].iloc[0]).strip())
            location = Links(request).url(f"/collections/{spec.name}/items/{row_id}")
        if not dry_run:
            audit(conn, principal, "create", spec.name, _detail(report), report.rows)
    status = 201 if report.inserted and not dry_run else 200
    return _report(report, status, {"Location": location} if location else None)


@router.put("/collections/{layer}/items/{feature_id}", summary="Replace a feature's properties and geometry",
            openapi_extra=GEOJSON_BODY)  # fmt: skip
def replace_item(
    principal: EditorDep,
    spec: LayerDep,
    feature_id: str,
    body: BodyDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    row_id = parse_feature_id(feature_id, spec)
    frame = geojson_frame(body)
    with engine.begin() as conn:
        report = replace_feature(conn, spec, row_id, frame, settings.imports, actor=principal.actor)
        audit(conn, principal, "replace", spec.name, {"id": row_id, **_detail(report)}, 1)
        feature = read_item(conn, spec, spec.visible_fields(principal.role), row_id)
    return Response(feature, 200, media_type=GEOJSON)


@router.delete(
    "/collections/{layer}/items/{feature_id}", status_code=204, summary="Delete a feature (soft)"
)
def delete_item(
    principal: EditorDep, spec: LayerDep, feature_id: str, engine: EngineDep
) -> Response:
    row_id = parse_feature_id(feature_id, spec)
    with engine.begin() as conn:
        soft_delete(conn, spec, row_id)
        audit(conn, principal, "delete", spec.name, {"id": row_id}, 1)
    return Response(status_code=204)


@router.post("/collections/{layer}/imports", summary="Import a file (multipart field 'file')")
async def import_upload(
    request: Request,
    principal: EditorDep,
    spec: LayerDep,
    engine: EngineDep,
    settings: SettingsDep,
    dry_run: DryRun = False,
    restore_deleted: RestoreDeleted = False,
    make_valid: Annotated[
        bool, Query(description="repair invalid polygons instead of refusing them")
    ] = False,
    id_field: Annotated[
        str, Query(description="column holding each row's stable id")
    ] = "external_id",
    crs: Annotated[
        str | None, Query(description="CRS of a file that declares none, e.g. EPSG:32638")
    ] = None,
    source_layer: Annotated[
        str | None, Query(description="layer inside a GeoPackage or zip")
    ] = None,
    sheet: Annotated[
        str | None, Query(description="spreadsheet: the sheet (default: first)")
    ] = None,
    mapping: Annotated[
        str | None, Query(description="a ready mapping of data/mappings/, by name")
    ] = None,
    delimiter: Annotated[
        str | None, Query(description="CSV: , ; or tab (default: detected)")
    ] = None,
    encoding: Annotated[
        str | None, Query(description="CSV: e.g. cp1254 (default: detected)")
    ] = None,
    decimal: Annotated[str | None, Query(description=". or , (default: detected)")] = None,
    dayfirst: Annotated[
        bool | None, Query(description="dates like 03/04/2025 are day-first (default: per column)")
    ] = None,
) -> Response:
    """GeoJSON, GeoPackage, zipped Shapefile, CSV, .xlsx or .ods; the same all-or-nothing import
    as the CLI, with the same reading options."""
    if mapping is not None and mapping not in ready_mappings():
        raise invalid(f"no ready mapping '{mapping}' (there are: {', '.join(ready_mappings())})")
    read = ReadOptions(
        crs=crs, source_layer=source_layer, sheet=sheet, delimiter=delimiter, encoding=encoding,
        decimal=decimal, dayfirst=dayfirst, mapping=load_mapping(mapping) if mapping else None,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="safeground-upload-") as folder:
        path = await receive_file(request, Path(folder), settings.imports.max_upload_mb)
        options = {"dry_run": dry_run, "make_valid": make_valid, "id_field": id_field,
                   "read": read, "restore_deleted": restore_deleted}  # fmt: skip
        report = await run_in_threadpool(
            _import, engine, spec, path, settings.imports, principal, options
        )
    return _report(report, 200 if dry_run else 201 if report.inserted else 200)


def _import(
    engine: sa.Engine,
    spec: LayerSpec,
    path: Path,
    limits: ImportSettings,
    principal: Principal,
    options: dict,
) -> ImportReport:
    with engine.begin() as conn:
        report = import_file(
            conn, spec, path, limits, read=options["read"], dry_run=options["dry_run"],
            make_valid=options["make_valid"], id_field=options["id_field"],
            restore_deleted=options["restore_deleted"], actor=principal.actor,
        )  # fmt: skip
        if not options["dry_run"]:
            audit(
                conn,
                principal,
                "import",
                spec.name,
                {"filename": path.name, **_detail(report)},
                report.rows,
            )
    return report


def _detail(report: ImportReport) -> dict[str, object]:
    return {"inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
            "batch_id": report.batch_id}  # fmt: skip
