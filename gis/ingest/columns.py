"""Which column feeds which field: a mapping first, then the field's own name (any case), its HXL
hashtag, and the last path segment of a form's grouped header (`grp_session/held_on`) when only
one column ends that way. The id may come from KoBoToolbox's `_uuid`/`_id` or ODK's instanceID."""

from __future__ import annotations

from dataclasses import dataclass, field

from gis.errors import invalid
from gis.ingest.hxl import hxl_key
from gis.ingest.mapping import ColumnMapping
from gis.ingest.tabular import column_finder, segment
from gis.spec import LayerSpec

# Columns a file may carry that are not properties and are not worth a mention.
BOOKKEEPING = {"id", "fid", "ogc_fid", "created_at", "updated_at", "deleted_at", "import_batch_id"}
# Ids of form exports, by last segment, most stable first: KoBoToolbox's _uuid, the instanceID of
# meta/instanceID (KoBo, ODK), ODK Central's KEY, KoBoToolbox's numeric _id.
ID_CANDIDATES = ("_uuid", "instanceid", "key", "_id")
ID = "external_id"


@dataclass
class Resolution:
    fed: dict[str, str] = field(default_factory=dict)  # field (external_id, source too) -> column
    ignored: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    unmapped: dict[str, str] = field(default_factory=dict)  # field -> mapped column not found


def resolve_columns(
    columns: list[str],
    tags: dict[str, str],
    spec: LayerSpec,
    mapping: ColumnMapping | None,
    id_field: str = ID,
) -> Resolution:
    find = column_finder(columns, tags)
    targets = [*spec.property_names, "source"]
    out = Resolution()

    def take(target: str, column: str) -> None:
        out.fed[target] = column

    if mapping and mapping.layer and mapping.layer != spec.name:
        raise invalid(f"the mapping '{mapping.name}' is for layer '{mapping.layer}', "
                      f"not '{spec.name}'")  # fmt: skip
    wanted_id = id_field if id_field != ID else (mapping.id if mapping and mapping.id else None)
    if wanted_id is not None:
        column = find(wanted_id)
        if column is None:
            raise invalid(
                f"no id column `{wanted_id}` in the file (its columns: {_some(columns)})", None, ID
            )
        take(ID, column)
    if mapping:
        for target, wanted in mapping.columns.items():
            if target not in targets:
                raise invalid(
                    f"the mapping '{mapping.name}' feeds `{target}` from `{wanted}`, but layer "
                    f"'{spec.name}' has no field `{target}` (its fields: {', '.join(targets)})"
                )
            column = find(wanted)
            if column is None:  # a form version without that question: said, not refused
                out.unmapped[target] = wanted
            else:
                take(target, column)
        for target in mapping.values:
            if target not in targets:
                raise invalid(
                    f"the mapping '{mapping.name}' has [values.{target}], but layer "
                    f"'{spec.name}' has no field `{target}`"
                )

    def free() -> list[str]:
        used = set(out.fed.values())
        return [c for c in columns if c not in used]

    for target in [ID, *targets]:  # the field's own name, in any case
        if target not in out.fed:
            hits = [c for c in free() if c == target] or [
                c for c in free() if c.strip().casefold() == target.casefold()
            ]
            if len(hits) == 1:
                take(target, hits[0])
    for target in [ID, *targets]:  # its HXL hashtag
        tag = spec.hxl.get(target)
        if target not in out.fed and tag:
            hits = [c for c in free() if c in tags and hxl_key(tags[c]) == hxl_key(tag)]
            if len(hits) == 1:
                take(target, hits[0])
    for target in [ID, *targets]:  # the last segment of a grouped header
        if target not in out.fed:
            hits = [c for c in free() if segment(c) == target.casefold()]
            if len(hits) == 1:
                take(target, hits[0])
            elif len(hits) > 1:
                out.ambiguous[target] = hits
    if ID not in out.fed:
        for candidate in ID_CANDIDATES:
            hits = [c for c in free() if segment(c) == candidate]
            if len(hits) == 1:
                take(ID, hits[0])
                break
    skip = BOOKKEEPING | set(spec.computed_fields)
    out.ignored = [c for c in free() if c.strip().casefold() not in skip]
    return out


def _some(columns: list[str], n: int = 20) -> str:
    shown = ", ".join(f"`{c}`" for c in columns[:n])
    return (shown + (f" … ({len(columns) - n} more)" if len(columns) > n else "")) or "none"
