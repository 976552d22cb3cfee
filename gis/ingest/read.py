"""Reading an input file into a GeoDataFrame in EPSG:4326, refusing what cannot be read safely.

Formats: GeoJSON, GeoPackage, zipped Shapefile, CSV and spreadsheets (.xlsx, .ods; read by
`tabular`). Sizes are checked before anything is parsed, and zips are expanded with a byte cap
(declared sizes in a zip's directory can lie). What was detected (encoding, delimiter, sheet, the
CRS reprojected from…) goes into `frame.attrs["detected"]` for the import report.
"""

from __future__ import annotations

import dataclasses
import tempfile
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyproj
import pyproj.exceptions

from gis.errors import PayloadTooLarge, invalid
from gis.ingest.csvtext import read_csv_table
from gis.ingest.options import ReadOptions
from gis.ingest.sheets import read_sheet
from gis.ingest.tabular import table_to_frame
from gis.settings import ImportSettings

FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".csv": "CSV",
    ".tsv": "CSV",
    ".txt": "CSV",
    ".xlsx": "spreadsheet",
    ".xlsm": "spreadsheet",
    ".ods": "spreadsheet",
}


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise invalid(
            f"unsupported file type '{path.suffix or path.name}': use one of "
            + ", ".join(sorted(set(FORMATS))),
        )
    return fmt


def read_file(
    path: Path,
    limits: ImportSettings,
    *,
    crs: str | None = None,
    source_layer: str | None = None,
    options: ReadOptions | None = None,
) -> gpd.GeoDataFrame:
    """The file's features in EPSG:4326; raises InvalidInput / PayloadTooLarge with the reason."""
    options = (options or ReadOptions()).with_mapping_defaults()
    if crs is not None or source_layer is not None:
        options = dataclasses.replace(
            options, crs=crs or options.crs, source_layer=source_layer or options.source_layer
        )
    crs, source_layer = options.crs, options.source_layer
    if crs is not None:
        try:  # the caller's CRS string, checked before it reaches geopandas (CLI and API alike)
            pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError:
            raise invalid(
                f"'{crs[:60]}' is not a coordinate reference system PROJ knows "
                "(use e.g. EPSG:32638)",
                field="crs",
            ) from None
    fmt = file_format(path)
    size = path.stat().st_size
    if size == 0:
        raise invalid(f"the file '{path.name}' is empty")
    if size > limits.max_upload_mb * 1e6:
        raise PayloadTooLarge(
            f"the file '{path.name}' is {size / 1e6:.1f} MB, over the {limits.max_upload_mb:g} MB limit"
        )
    if fmt == "CSV":
        frame = table_to_frame(*read_csv_table(path, options), options, path.name)
    elif fmt == "spreadsheet":
        frame = table_to_frame(*read_sheet(path, options), options, path.name)
    elif fmt == "zipped Shapefile":
        frame = _read_zipped_shapefile(path, limits, source_layer)
    elif fmt == "GeoPackage":
        frame = _read_geopackage(path, source_layer)
    else:
        frame = _read_geojson(path)
    attrs = dict(frame.attrs)
    attrs.setdefault("detected", {"format": fmt})
    frame = _to_wgs84(frame, crs, fmt)
    frame.attrs = {**attrs, **frame.attrs}
    return frame


def _ogr(path: Path | str, fmt: str, name: str, layer: str | None = None) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, layer=layer, use_arrow=False)
    except Exception as exc:  # pyogrio raises several error types for unreadable files
        first_line = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise invalid(f"'{name}' could not be read as {fmt}: {first_line}") from exc


def _read_geojson(path: Path) -> gpd.GeoDataFrame:
    with path.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"{"):
        raise invalid(f"'{path.name}' is not GeoJSON: it does not start with a JSON object")
    return _ogr(path, "GeoJSON", path.name)


def _read_geopackage(path: Path, source_layer: str | None) -> gpd.GeoDataFrame:
    with path.open("rb") as f:
        if f.read(16) != b"SQLite format 3\x00":
            raise invalid(f"'{path.name}' is not a GeoPackage (not an SQLite file)")
    layers = [str(name) for name, _ in _list_layers(path, "GeoPackage")]
    if source_layer is None:
        if len(layers) != 1:
            raise invalid(
                f"'{path.name}' holds {len(layers)} layers ({', '.join(layers) or 'none'}): "
                "say which one to import with --source-layer NAME (source_layer= in the API)"
            )
        source_layer = layers[0]
    elif source_layer not in layers:
        raise invalid(
            f"'{path.name}' has no layer '{source_layer}' (it has: {', '.join(layers)}): "
            "give one of them with --source-layer"
        )
    frame = _ogr(path, "GeoPackage", path.name, source_layer)
    frame.attrs["detected"] = {"format": "GeoPackage", "layer": source_layer}
    return frame


def _list_layers(path: Path, fmt: str) -> list[tuple[str, str]]:
    try:
        return [tuple(row) for row in pyogrio.list_layers(path)]  # type: ignore[misc]
    except Exception as exc:
        raise invalid(f"'{path.name}' could not be read as {fmt}") from exc


# Shapefiles compress about 3-20 times; a member expanding 200 times is made to expand.
MAX_ZIP_RATIO = 200


def refuse_bomb(name: str, members: list[zipfile.ZipInfo], cap: int, max_mb: float) -> None:
    """From the zip's directory, before anything is extracted: too big in all, or a member that
    expands like a bomb. The extraction's byte counter still catches a directory that lies."""
    declared = sum(m.file_size for m in members)
    if declared > cap:
        raise PayloadTooLarge(
            f"the zip '{name}' would expand to {declared / 1e6:,.0f} MB, over the {max_mb:g} MB "
            "limit; refusing it (a zip bomb?)"
        )
    for m in members:
        if m.file_size > 1_000_000 and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1):
            raise PayloadTooLarge(
                f"the zip '{name}' holds '{Path(m.filename).name[:80]}', which expands "
                f"{m.file_size / max(m.compress_size, 1):,.0f} times; refusing it (a zip bomb?)"
            )


def _read_zipped_shapefile(
    path: Path, limits: ImportSettings, source_layer: str | None
) -> gpd.GeoDataFrame:
    if not zipfile.is_zipfile(path):
        raise invalid(f"'{path.name}' is not a zip file")
    cap = int(limits.max_unzipped_mb * 1e6)
    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as tmp:
        members = [m for m in archive.infolist() if not m.is_dir() and "__MACOSX" not in m.filename]
        shps = [m for m in members if m.filename.lower().endswith(".shp")]
        if not shps:
            names = ", ".join(m.filename for m in members[:10]) or "nothing"
            raise invalid(f"the zip '{path.name}' holds no .shp file (it holds: {names})")
        if source_layer:
            shps = [m for m in shps if Path(m.filename).stem == source_layer] or shps[:0]
        if len(shps) != 1:
            raise invalid(
                f"the zip '{path.name}' holds {len(shps)} matching .shp files: say which one to import"
            )
        stem = shps[0].filename[: -len(".shp")]
        wanted = [m for m in members if m.filename.rsplit(".", 1)[0] == stem]
        refuse_bomb(path.name, wanted, cap, limits.max_unzipped_mb)
        written = 0
        try:
            for member in wanted:
                target = Path(tmp) / Path(member.filename).name
                with archive.open(member) as src, target.open("wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > cap:
                            raise PayloadTooLarge(
                                f"the zip '{path.name}' expands past the "
                                f"{limits.max_unzipped_mb:g} MB limit; refusing it (a zip bomb?)"
                            )
                        dst.write(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            # a directory that lies about sizes ends in a CRC error; or an unsupported method
            raise invalid(
                f"the zip '{path.name}' is damaged or uses an unsupported method"
            ) from exc
        shp = Path(tmp) / Path(shps[0].filename).name
        for ext in (".shx", ".dbf"):
            if not shp.with_suffix(ext).exists():
                raise invalid(f"the Shapefile '{shp.name}' in the zip has no {ext} file")
        return _ogr(shp, "Shapefile", path.name)


def _to_wgs84(frame: gpd.GeoDataFrame, crs: str | None, fmt: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        if crs is not None:
            frame = frame.set_crs(crs)
        else:
            minx, miny, maxx, maxy = frame.total_bounds if len(frame) else (0, 0, 0, 0)
            if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
                what = "has no .prj file" if fmt == "zipped Shapefile" else "declares no CRS"
                fix = "include its .prj (or give the CRS with --crs)"
                if fmt != "zipped Shapefile":
                    fix = "give its CRS with --crs, e.g. --crs EPSG:32638 for UTM zone 38N"
                raise invalid(
                    f"the {fmt} {what} and its coordinates (x {minx:.0f}…{maxx:.0f}, "
                    f"y {miny:.0f}…{maxy:.0f}) are not longitude/latitude: it looks projected; "
                    + fix
                )
            frame = frame.set_crs("EPSG:4326")
            frame.attrs["crs_assumed"] = True
    if frame.crs is not None and not frame.crs.equals("EPSG:4326"):
        source = frame.crs.to_string()
        try:
            frame = frame.to_crs("EPSG:4326")
            frame.attrs["crs_from"] = source
        except Exception as exc:
            raise invalid(f"could not reproject from {frame.crs.to_string()} to EPSG:4326") from exc
    return frame
