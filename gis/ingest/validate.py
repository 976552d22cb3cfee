"""Checking every row of an input against a layer spec, collecting every problem with its row.

Nothing is written until all rows pass; the problems found are returned together so a data
manager can fix a file in one go. Rows of tables are named as spreadsheet lines (the header is
line 1) and by the column they came from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import functools
import gc
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import TypeAdapter, ValidationError

from gis.errors import InvalidInput, RowError
from gis.ingest.columns import ID, Resolution, resolve_columns
from gis.ingest.geometries import check_geometries
from gis.ingest.mapping import ColumnMapping
from gis.ingest.values import (
    DateProblem,
    clip,
    enum_lookup,
    fold,
    map_values,
    to_dates,
    to_numbers,
    to_texts,
)
from gis.settings import ImportSettings
from gis.spec import LayerSpec, Properties, field_base_type


@dataclass
class ValidRows:
    """Rows ready to write: property dicts and EWKB hex geometries, in file order."""

    records: list[dict[str, object]]
    geometries: list[str]
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> the column that fed it


def validate_frame(
    frame: gpd.GeoDataFrame,
    spec: LayerSpec,
    limits: ImportSettings,
    *,
    id_field: str = ID,
    default_source: str | None = None,
    make_valid: bool = False,
    mapping: ColumnMapping | None = None,
    dayfirst: bool | None = None,
) -> ValidRows:
    with no_gc():
        return _validate(
            frame, spec, limits, id_field, default_source, make_valid, mapping, dayfirst
        )


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """The cyclic garbage collector paused: building 100,000 row dicts otherwise triggers full
    collections that cost more than the validation itself (the rows hold no cycles)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _validate(
    frame: gpd.GeoDataFrame,
    spec: LayerSpec,
    limits: ImportSettings,
    id_field: str,
    default_source: str | None,
    make_valid: bool,
    mapping: ColumnMapping | None,
    dayfirst: bool | None,
) -> ValidRows:
    if len(frame) == 0:
        raise InvalidInput([RowError(None, None, "the input has no features")])
    frame = _restore_shapefile_names(frame, {*spec.property_names, id_field, "source"})
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    res = resolve_columns(columns, frame.attrs.get("hxl_tags", {}), spec, mapping, id_field)
    locate = _locator(frame, res)
    _require_columns(spec, res, columns, default_source, locate)

    errors: list[RowError] = [
        RowError(row, "geometry", f"the geometry could not be parsed: `{clip(text)}`")
        for row, text in frame.attrs.get("unparseable_geometry_rows", [])
    ]
    unparseable = {row for row, _ in frame.attrs.get("unparseable_geometry_rows", [])}
    geometries, geometry_errors = check_geometries(
        frame.geometry.to_numpy(), spec, limits, make_valid
    )
    errors += [e for e in geometry_errors if e.row not in unparseable]

    data = {target: _plain_column(frame[column].tolist()) for target, column in res.fed.items()}
    decimal_comma = frame.attrs.get("decimal") == ","
    undecided: set[str] = set()  # columns refused whole: their rows are not repeated one by one
    for target in spec.property_names:
        if target in data:
            try:
                data[target] = _coerce(spec, target, data[target], mapping, dayfirst, decimal_comma)
            except DateProblem as exc:
                errors.append(RowError(None, target, str(exc)))
                undecided.add(target)
    seen: dict[str, int] = {}
    props = [t for t in spec.property_names if t in data]
    checked: list[dict[str, object]] = []
    rows, ids, sources = [], [], []
    for i in range(len(frame)):
        row = i + 1
        external_id = data[ID][i]
        if external_id is None or str(external_id).strip() == "":
            errors.append(RowError(row, ID, "missing id"))
            continue
        external_id = _id_text(external_id)
        if external_id in seen:
            errors.append(
                RowError(
                    row, ID, f"id '{external_id}' is also used by {locate.where(seen[external_id])}"
                )
            )
            continue
        seen[external_id] = row
        rows.append(row)
        ids.append(external_id)
        sources.append((data["source"][i] if "source" in data else None) or default_source)
        checked.append({t: data[t][i] for t in props if data[t][i] is not None})
    adapter = _rows_adapter(spec.properties)
    records: list[dict[str, object]] = []
    try:  # all rows in one call: much faster than one model_validate per row
        models = adapter.validate_python(checked)
    except ValidationError as exc:
        errors.extend(_row_errors(rows, exc, spec))
    else:
        records = [
            {"external_id": external_id, "source": str(source), **values}
            for external_id, source, values in zip(
                ids, sources, adapter.dump_python(models, mode="python"), strict=True
            )
        ]
    errors = [e for e in errors if e.row is None or e.field not in undecided]
    if errors:
        located = [locate(e) for e in errors]
        raise InvalidInput(sorted(located, key=lambda e: (e.row or 0, e.field or "")))
    warnings = []
    if frame.attrs.get("crs_assumed"):
        warnings.append("no CRS declared: coordinates taken as longitude/latitude (EPSG:4326)")
    for target, hits in res.ambiguous.items():
        warnings.append(
            f"`{target}` not filled: the columns {', '.join(f'`{c}`' for c in hits)} all end in "
            f"`{target}`; say which one in a mapping (--mapping)"
        )
    for target, wanted in res.unmapped.items():
        if target not in res.fed:
            warnings.append(f"the mapping takes `{target}` from `{wanted}`, which the file lacks")
    for sheet in frame.attrs.get("detected", {}).get("sheets_not_imported", []):
        warnings.append(f"sheet not imported (a repeat group or another table): {sheet}")
    order = [ID, "source", *spec.property_names]
    fed = {t: res.fed[t] for t in order if t in res.fed}
    return ValidRows(records, geometries, res.ignored, warnings, fed)


class _Locator:
    """Turns a row number into "line N" (tables: the header is line 1) and a field into the
    column that fed it."""

    def __init__(self, lines: np.ndarray | None, columns: dict[str, str]) -> None:
        self.lines, self.columns = lines, columns

    def where(self, row: int) -> str:
        return f"line {self.lines[row - 1]}" if self.lines is not None else f"row {row}"

    def __call__(self, e: RowError) -> RowError:
        located = self.lines is not None and e.row is not None
        line = int(self.lines[e.row - 1]) if located else None  # type: ignore[index,operator]
        column = self.columns.get(e.field) if e.field else None
        return dataclasses.replace(e, line=line, column=column)


def _locator(frame: gpd.GeoDataFrame, res: Resolution) -> _Locator:
    columns = dict(res.fed)
    geometry_columns = frame.attrs.get("geometry_columns")
    if geometry_columns:
        columns["geometry"] = ", ".join(geometry_columns)
    return _Locator(frame.attrs.get("lines"), columns)


def _require_columns(
    spec: LayerSpec,
    res: Resolution,
    columns: list[str],
    default_source: str | None,
    locate: _Locator,
) -> None:
    """Whole-file problems: no id column, no source, a required field no column feeds."""
    shown = ", ".join(f"`{c}`" for c in columns[:30]) or "none"
    problems = []
    if ID not in res.fed:
        problems.append(
            RowError(
                None,
                ID,
                f"no '{ID}' column: every row needs a stable id so that re-importing updates "
                f"instead of duplicating; name the id column with --id-field (KoBoToolbox's "
                f"`_uuid` and ODK's `meta/instanceID` are found by themselves) "
                f"(columns found: {shown})",
            )
        )
    if "source" not in res.fed and not default_source:
        problems.append(RowError(None, "source", "no 'source' column and no default source given"))
    for name, info in spec.properties.model_fields.items():
        if info.is_required() and name not in res.fed:
            if name in res.unmapped:
                why = (
                    f"the mapping takes it from the column `{res.unmapped[name]}`, which the file "
                    f"does not have (columns found: {shown})"
                )
            elif name in res.ambiguous:
                why = (
                    f"the columns {', '.join(f'`{c}`' for c in res.ambiguous[name])} all end in "
                    f"`{name}`: say which one in a mapping (--mapping)"
                )
            else:
                tag = f", or tagged {spec.hxl[name]}" if name in spec.hxl else ""
                why = (
                    f"no column feeds it: looked for a column named `{name}` or ending in "
                    f"`/{name}`{tag}; map one to it in a mapping (--mapping) (columns found: {shown})"
                )
            problems.append(RowError(None, name, f"required field `{name}` is missing: {why}"))
    if problems:
        raise InvalidInput(problems)


def _coerce(
    spec: LayerSpec,
    target: str,
    values: list[object],
    mapping: ColumnMapping | None,
    dayfirst: bool | None,
    decimal_comma: bool,
) -> list[object]:
    kind = field_base_type(spec.properties, target)
    mapped = mapping.values.get(target, {}) if mapping else {}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return map_values(values, enum_lookup(kind, spec.synonyms.get(target, {}), mapped))
    if mapped:
        values = map_values(values, {fold(k): v for k, v in mapped.items()})
    if kind is dt.date:
        return to_dates(values, dayfirst)
    if kind is int or kind is float:
        return to_numbers(values, kind is int, decimal_comma)
    if kind is str:
        return to_texts(values)
    return values


def _restore_shapefile_names(frame: gpd.GeoDataFrame, known: set[str]) -> gpd.GeoDataFrame:
    """Shapefiles cut field names to 10 characters: map 'external_i' back to 'external_id'."""
    renames = {}
    for column in frame.columns:
        if column not in known and len(column) == 10:
            matches = [k for k in known if k.startswith(column)]
            if len(matches) == 1:
                renames[column] = matches[0]
    if not renames:
        return frame
    attrs = dict(frame.attrs)
    frame = frame.rename(columns=renames)
    frame.attrs = attrs
    return frame


@functools.lru_cache(maxsize=32)
def _rows_adapter(model: type[Properties]) -> TypeAdapter[list[Properties]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def _plain_column(values: list[object]) -> list[object]:
    return [(v.strip() or None) if type(v) is str else _plain(v) for v in values]


def _plain(value: object) -> object:
    """Numpy/pandas scalars to plain Python; missing values to None; midnight timestamps to dates."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    if isinstance(value, str):
        return value.strip() or None
    return value


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _row_errors(rows: list[int], exc: ValidationError, spec: LayerSpec) -> list[RowError]:
    """The errors of a list validation, each on its row (the first item of its location)."""
    out = []
    for err in exc.errors(include_url=False):
        index, *where = err["loc"]
        row = rows[int(index)]
        field_name = ".".join(str(p) for p in where) or None
        message = err["msg"]
        given = err.get("input")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "enum" and field_name:
            message = _enum_message(spec, field_name, given)
        elif err["type"] != "missing" and field_name and not isinstance(given, dict):
            message = f"`{clip(given)}`: {message}"
        out.append(RowError(row, field_name, message))
    return out


def _enum_message(spec: LayerSpec, name: str, given: object) -> str:
    kind = field_base_type(spec.properties, name)
    allowed = ", ".join(f"'{e.value}'" for e in kind) if isinstance(kind, type) else "?"  # type: ignore[attr-defined]
    synonyms = list(spec.synonyms.get(name, {}))
    also = f" (also understood: {', '.join(synonyms[:4])}{', …' if len(synonyms) > 4 else ''})"
    return f"`{clip(given)}` is not one of the allowed values: {allowed}" + (
        also if synonyms else ""
    )
