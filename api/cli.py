"""`safeground …`: set up the database, load the demo, import, export, list layers, serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import psycopg
import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from api.cli_analysis import coverage as coverage_command
from api.cli_db import cannot_connect, choose_database, use
from api.cli_keys import audit, keys_app
from api.cli_maps import map_app
from gis import db
from gis.analysis import pairs
from gis.errors import InvalidInput, SafeGroundError
from gis.export import SUFFIX, ExportFormat, export_layer
from gis.ingest import ImportReport, ReadOptions, import_frame, load_mapping, read_file
from gis.roles import LayerRoles
from gis.settings import DEMO_POPULATION_RASTER, DatabaseSettings, Settings
from gis.spec import Role
from layers import REGISTRY, migrations

app = typer.Typer(
    help="SafeGround: weapon contamination and humanitarian work, in PostGIS.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
demo_app = typer.Typer(help="The Azerbaijan demo data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")
app.add_typer(map_app, name="map")
app.command("coverage")(coverage_command)
app.command("audit")(audit)
console = Console()
err = Console(stderr=True)

PROGRESS_ABOVE_ROWS = 3000


def _settings() -> Settings:
    return Settings()


@app.callback()
def _startup() -> None:
    """Check the layer roles the settings declare before any command runs (and refuse to start,
    saying which setting is wrong, rather than fail inside a map)."""
    try:
        LayerRoles.from_settings(REGISTRY, _settings().analysis)
    except SafeGroundError as exc:
        _fail(exc)


def _layer(name: str):  # type: ignore[no-untyped-def]
    if name not in REGISTRY:
        raise SafeGroundError(f"unknown layer '{name}'; layers: {', '.join(REGISTRY)}")
    return REGISTRY[name]


def _fail(exc: SafeGroundError) -> None:
    err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
    if isinstance(exc, InvalidInput) and len(exc.errors) > 1:
        for e in exc.errors[:200]:
            err.print(f"  - {e}", highlight=False, markup=False)
        if len(exc.errors) > 200:
            err.print(f"  … {len(exc.errors) - 200} more")
    raise typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database schema up (creates PostGIS and the layer tables)."""
    engine = db.make_engine(_settings().database)
    migrations.upgrade(engine, revision)
    console.print(f"database at revision {revision}")


@db_app.command("check")
def db_check() -> None:
    """Compare the database with the layer specs, as `alembic revision --autogenerate` would;
    exit 1, listing what differs, if a migration is missing or disagrees with a spec."""
    engine = db.make_engine(_settings().database)
    with engine.connect() as conn:
        found = migrations.differences(conn)
    for difference in found:
        err.print(f"  - {difference}", highlight=False, markup=False)
    if found:
        err.print(f"[bold red]error:[/] {len(found)} difference(s) from the specs")
        raise typer.Exit(1)
    console.print("the database schema matches the layer specs")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="target revision, e.g. base")],
) -> None:
    """Migrate the database schema down (base drops every layer table)."""
    engine = db.make_engine(_settings().database)
    migrations.downgrade(engine, revision)
    console.print(f"database at revision {revision}")


@app.command("layers")
def layers() -> None:
    """List the layers with their geometry type, access and feature counts."""
    from gis.catalog import feature_counts

    engine = db.make_engine(_settings().database)
    with engine.connect() as conn:
        counts = feature_counts(conn, list(REGISTRY.values()))
    table = Table("layer", "title", "geometry", "read by", "features")
    for spec in REGISTRY.values():
        table.add_row(
            spec.name, spec.title, spec.geometry_type, spec.read_role.name, f"{counts[spec.name]:,}"
        )
    console.print(table)


@app.command("import")
def import_(
    layer: Annotated[str, typer.Argument(help="layer to import into")],
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="GeoJSON, GeoPackage, zipped Shapefile, CSV, .xlsx or .ods (KoBo/ODK exports too)",
        ),
    ],
    dry_run: Annotated[bool, typer.Option(help="validate and report, write nothing")] = False,
    make_valid: Annotated[
        bool, typer.Option(help="repair invalid polygons instead of rejecting them")
    ] = False,
    restore_deleted: Annotated[
        bool, typer.Option(help="bring back deleted features the file names (refused otherwise)")
    ] = False,
    id_field: Annotated[
        str, typer.Option(help="column holding each row's stable id")
    ] = "external_id",
    source: Annotated[
        str | None, typer.Option(help="source for rows without a 'source' column")
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of a file that declares none, e.g. EPSG:32638")
    ] = None,
    source_layer: Annotated[
        str | None, typer.Option(help="layer inside a GeoPackage or zip")
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="spreadsheet: the sheet to import (default: the first)")
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(help="a mapping .toml (columns and values), or a ready one in data/mappings/"),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option(help="CSV: , ; or tab (default: detected)")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option(help="CSV: e.g. utf-8, cp1254, cp1251 (default: detected)")
    ] = None,
    decimal: Annotated[
        str | None, typer.Option(help="decimal mark, . or , (default: detected)")
    ] = None,
    dayfirst: Annotated[
        bool | None,
        typer.Option(
            "--dayfirst/--monthfirst",
            help="dates like 03/04/2025 (default: decided per column where unambiguous)",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Import a file into a layer: all rows or none, upserting by external_id."""
    settings = _settings()
    try:
        spec = _layer(layer)
        engine = db.make_engine(settings.database)
        options = ReadOptions(
            crs=crs, source_layer=source_layer, sheet=sheet, delimiter=delimiter,
            encoding=encoding, decimal=decimal, dayfirst=dayfirst,
            mapping=load_mapping(mapping) if mapping else None,
        )  # fmt: skip
        frame = read_file(file, settings.imports, options=options)
        with _progress(len(frame) * 2, f"importing {file.name}") as advance, engine.begin() as conn:
            report = import_frame(
                conn,
                spec,
                frame,
                settings.imports,
                filename=file.name,
                actor="cli",
                dry_run=dry_run,
                make_valid=make_valid,
                restore_deleted=restore_deleted,
                id_field=id_field,
                default_source=source,
                progress=advance,
                mapping=options.mapping,
                dayfirst=options.dayfirst,
            )
    except SafeGroundError as exc:
        _fail(exc)
        return
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
        return
    verb = "would be" if dry_run else "were"
    console.print(
        f"{layer}: {report.rows:,} rows read; {report.inserted:,} {verb} inserted, "
        f"{report.updated:,} updated, {report.unchanged:,} unchanged"
        + (" (dry run: nothing written)" if dry_run else f" (import batch {report.batch_id})")
    )
    _print_detected(report)
    for note in [
        *report.warnings,
        *(
            [f"columns ignored: {', '.join(report.ignored_columns)}"]
            if report.ignored_columns
            else []
        ),
    ]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)


def _print_detected(report: ImportReport) -> None:
    """How the file was read and which column fed each field, so a wrong guess shows."""
    labels = {"format": "format", "encoding": "encoding", "delimiter": "delimiter",
              "decimal": "decimal mark", "sheet": "sheet", "layer": "layer",
              "hxl": "HXL hashtag row", "geometry": "geometry",
              "crs_reprojected_from": "reprojected from"}  # fmt: skip
    read = [f"{labels[k]} {v}" for k, v in report.detected.items() if k in labels]
    if read:
        console.print("read as: " + "; ".join(read), highlight=False, markup=False)
    fed = [f"{f} ← {c}" if f != c else f for f, c in report.columns.items()]
    if fed:
        console.print("fields: " + ", ".join(fed), highlight=False, markup=False)


class _progress:
    """A rich progress bar for big inputs; a no-op callback for small ones."""

    def __init__(self, total: int, label: str) -> None:
        self.bar = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            if total > 2 * PROGRESS_ABOVE_ROWS
            else None
        )
        self.total, self.label = total, label

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda n: self.bar.advance(task, n)  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@app.command("export")
def export(
    layer: Annotated[str, typer.Argument(help="layer to export")],
    format: Annotated[str, typer.Option("--format", "-f", help="geojson, gpkg or csv")] = "geojson",
    out: Annotated[Path | None, typer.Option(help="output file (default: LAYER.EXT)")] = None,
    hxl: Annotated[bool, typer.Option(help="CSV: add the HXL hashtag row")] = False,
) -> None:
    """Export a layer's live features (every field: the CLI runs with admin rights)."""
    try:
        spec = _layer(layer)
        if format not in SUFFIX:
            raise SafeGroundError(f"unknown format '{format}': use geojson, gpkg or csv")
        fmt: ExportFormat = format  # type: ignore[assignment]
        target = out or Path(f"{layer}{SUFFIX[fmt]}")
        engine = db.make_engine(_settings().database)
        with engine.connect() as conn:
            count = export_layer(conn, spec, fmt, target, spec.visible_fields(Role.admin), hxl=hxl)
    except SafeGroundError as exc:
        _fail(exc)
        return
    console.print(f"{count:,} {layer} features written to {target}")


@demo_app.command("load")
def demo_load(
    scale: Annotated[
        str, typer.Option(help="national (the demo) or large (for benchmarks)")
    ] = "national",
    data_dir: Annotated[Path, typer.Option(help="folder with the reference data")] = Path("data"),
) -> None:
    """Load the Azerbaijan reference layers, the documented events and synthetic demo records."""
    from demo.load import load_demo

    settings = _settings()
    engine = db.make_engine(settings.database)
    try:
        reports = load_demo(
            engine,
            settings.imports,
            data_dir,
            scale,
            console=console,
            raster_path=settings.analysis.raster_dir / DEMO_POPULATION_RASTER,
        )
    except SafeGroundError as exc:
        _fail(exc)
        return
    table = Table("layer", "rows", "inserted", "updated", "unchanged")
    for r in reports:
        table.add_row(
            r.layer, f"{r.rows:,}", f"{r.inserted:,}", f"{r.updated:,}", f"{r.unchanged:,}"
        )
    console.print(table)
    # Measure the place × hazard pairs now, so that the first coverage question after a load does
    # not pay for the whole country (pairs.refresh measures only what changed since).
    roles = LayerRoles.from_settings(REGISTRY, settings.analysis)
    with (
        console.status("measuring place × hazard distances for the analyses…"),
        engine.begin() as conn,
    ):
        changed = pairs.refresh(conn, roles.hazards, roles.places)
    console.print(f"analysis pairs: {changed:,} changed rows measured")


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the API (OGC API - Features, analysis, maps) with uvicorn."""
    from api import serving

    _settings()  # refuse bad configuration before starting
    serving.run(host, port, workers)


def main() -> None:
    choice = choose_database()
    use(choice)
    try:
        app()
    except (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError) as exc:
        url = choice.url or DatabaseSettings.model_fields["url"].default
        err.print(cannot_connect(choice, url, exc), highlight=False, markup=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
