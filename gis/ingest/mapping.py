"""Mapping files (TOML): which source column feeds which field, and which source value is which
layer value, for files whose headers and vocabularies are not the layer's own.

    layer = "outreach_sessions"        # optional: refused if imported into another layer
    id = "_uuid"                       # the column (or #hashtag) holding the stable id
    source = "KoBoToolbox EORE form"   # `source` of rows that have none
    [columns]                          # field = source column (full header, last segment, #hashtag)
    held_on = "session_date"
    [values.audience]                  # source value = layer value (case/accents ignored)
    "School children" = "children"
    [geometry]                         # lon + lat, point (a "lat lon alt acc" column), or wkt
    point = "gps"
    [read]                             # reading options, as on the command line
    delimiter = ";"
    dayfirst = true

Ready mappings live in data/mappings/ and are named without their `.toml`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gis.errors import invalid

READY_MAPPINGS = Path(__file__).resolve().parents[2] / "data" / "mappings"
GEOMETRY_KEYS = {"lon", "lat", "point", "wkt"}
READ_KEYS = {"delimiter", "encoding", "decimal", "dayfirst", "sheet", "crs"}
TOP_KEYS = {"layer", "id", "source", "description", "columns", "values", "geometry", "read"}


@dataclass(frozen=True)
class ColumnMapping:
    name: str
    layer: str | None = None
    id: str | None = None
    source: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    geometry: dict[str, str] = field(default_factory=dict)
    read: dict[str, object] = field(default_factory=dict)


def ready_mappings() -> dict[str, Path]:
    return {p.stem: p for p in sorted(READY_MAPPINGS.glob("*.toml"))}


def load_mapping(name_or_path: str | Path) -> ColumnMapping:
    """A mapping from a file, or one of the ready ones by name."""
    path = Path(name_or_path)
    ready = ready_mappings()
    if str(name_or_path) in ready:
        path = ready[str(name_or_path)]
    elif not path.is_file():
        raise invalid(
            f"no mapping '{name_or_path}': give a .toml file or one of the ready mappings: "
            + (", ".join(ready) or "none")
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise invalid(f"the mapping '{path.name}' is not valid TOML: {exc}") from exc
    return parse_mapping(path.stem, data)


def parse_mapping(name: str, data: dict[str, object]) -> ColumnMapping:
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise invalid(
            f"the mapping '{name}' has unknown keys {', '.join(unknown)} "
            f"(it may have: {', '.join(sorted(TOP_KEYS))})"
        )
    columns = _table(name, data, "columns")
    values = {
        f: {str(k): str(v) for k, v in _table(name, data["values"], f, f"values.{f}").items()}  # type: ignore[arg-type]
        for f in _table(name, data, "values")
    }
    geometry = _table(name, data, "geometry")
    if set(geometry) - GEOMETRY_KEYS or ({"lon", "lat"} & set(geometry) and len(geometry) != 2):
        raise invalid(
            f"the mapping '{name}': [geometry] takes lon + lat, or point, or wkt "
            f"(it has {', '.join(geometry) or 'nothing'})"
        )
    read = dict(_table(name, data, "read"))
    if set(read) - READ_KEYS:
        raise invalid(
            f"the mapping '{name}': [read] takes {', '.join(sorted(READ_KEYS))} "
            f"(not {', '.join(sorted(set(read) - READ_KEYS))})"
        )
    return ColumnMapping(
        name=name,
        layer=_text(name, data, "layer"),
        id=_text(name, data, "id"),
        source=_text(name, data, "source"),
        columns={str(k): str(v) for k, v in columns.items()},
        values=values,
        geometry={str(k): str(v) for k, v in geometry.items()},
        read=read,
    )


def _table(name: str, data: object, key: str, label: str | None = None) -> dict[str, object]:
    value = data.get(key, {}) if isinstance(data, dict) else {}
    if not isinstance(value, dict):
        raise invalid(f"the mapping '{name}': `{label or key}` must be a table of key = value")
    for k, v in value.items():
        if key != "values" and isinstance(v, dict | list):
            raise invalid(f"the mapping '{name}': `{label or key}.{k}` must be a single value")
    return value


def _text(name: str, data: dict[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise invalid(f"the mapping '{name}': `{key}` must be text")
    return value
