"""The eight activities documented in the ICRC's public photo gallery, geocoded by place name.

Neither exact dates nor coordinates are public, so every record is placed by its village name
(or, when the gazetteer lacks the village, at a point inside its district) and dated 1 July of
its year — and each record's notes say so, so no one mistakes it for a surveyed location.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely import Point

from demo.reference import fold_name, layer_frame
from layers import REGISTRY

ORGANISATION = "ICRC"
ID_PREFIX = "icrc-gallery-2025"
DATE_NOTE = "date approximate: year only"


@dataclass(frozen=True)
class Placed:
    """Where a documented event is put, and the note that says how that was decided."""

    point: Point
    place_name: str
    note: str


def _match(place_az: str, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Villages of one district named `place_az`: exactly, then folded, then by romanised name.

    The last step is for villages the gazetteer knows only by their romanised name (Tatlı in
    Ağstafa is 'Tatli' with no Azerbaijani name), which would otherwise be lost.
    """
    exact = candidates[candidates["name_az"] == place_az]
    if len(exact):
        return exact
    key = fold_name(place_az)
    for column in ("name_az", "name"):
        folded = candidates[column].map(lambda n: fold_name(n) if isinstance(n, str) else None)
        found = candidates[folded == key]
        if len(found):
            return found
    return candidates.iloc[0:0]


def locate(
    place_az: str, district_en: str, villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> Placed:
    """Place one documented event by its village name inside its district."""
    district = districts[districts["name"] == district_en]
    if len(district) != 1:
        raise ValueError(f"district {district_en!r} is not (exactly once) in the districts layer")
    code = district["code"].iloc[0]
    matches = _match(place_az, villages[villages["district_code"] == code])
    if len(matches):
        # Several villages can share a name within a district; the lowest GeoNames id keeps the
        # choice stable from one run to the next.
        village = matches.sort_values("geonames_id", kind="stable").iloc[0]
        label = village["name_az"] if isinstance(village["name_az"], str) else village["name"]
        note = (
            f"Geocoded by place name to GeoNames {village['geonames_id']} ({label}); "
            "exact location not public"
        )
        return Placed(village.geometry, label, note)
    point = district.representative_point().iloc[0]
    note = (
        f"Place '{place_az}' not in the gazetteer: placed at a representative point of "
        f"{district_en} district; approximate"
    )
    return Placed(point, place_az, note)


def _int_or_none(text: str) -> int | None:
    return int(text) if text.strip() else None


def _notes(what: str, placed: Placed) -> str:
    return f"{what} — {placed.note}; {DATE_NOTE}"


def documented_events(
    csv_path: str | Path, villages: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> dict[str, gpd.GeoDataFrame]:
    """The documented events as `facilities`, `distributions` and `outreach_sessions` frames.

    `external_id` is `icrc-gallery-2025:<layer>:<n>` with `n` the 1-based data row of the CSV,
    so re-importing the file updates the same records.
    """
    rows: dict[str, list[dict[str, object]]] = {
        "facilities": [],
        "distributions": [],
        "outreach_sessions": [],
    }
    with open(csv_path, newline="", encoding="utf-8") as f:
        for number, row in enumerate(csv.DictReader(f), start=1):
            layer = row["layer"]
            if layer not in rows:
                raise ValueError(f"{csv_path}, row {number}: unknown layer {layer!r}")
            placed = locate(row["place_az"], row["district_en"], villages, districts)
            record = _record(layer, row, placed)
            record["external_id"] = f"{ID_PREFIX}:{layer}:{number}"
            record["source"] = row["source"]
            record["geometry"] = placed.point
            rows[layer].append(record)
    return {layer: _frame(layer, records) for layer, records in rows.items()}


def _record(layer: str, row: dict[str, str], placed: Placed) -> dict[str, object]:
    """One CSV row mapped onto its layer's properties."""
    on = dt.date(int(row["year"]), 7, 1)
    what = row["what"].strip()
    if layer == "facilities":
        return {
            "facility_type": row["facility_type"],
            "name": what,
            "rehabilitated_on": on,
            "works_done": what,
            "capacity": None,
            "organisation": ORGANISATION,
            "notes": _notes(what, placed),
        }
    if layer == "distributions":
        partner = f"{ORGANISATION}, AzRCS" if "AzRCS" in what else ORGANISATION
        return {
            "distributed_on": on,
            "item_category": row["item_category"],
            "quantity": None,
            "unit": None,
            "households": _int_or_none(row["households"]),
            "beneficiaries": None,
            "partner_organisation": partner,
            "place_name": placed.place_name,
            "notes": _notes(what, placed),
        }
    audience = row["audience"].strip() or None
    return {
        "held_on": on,
        "audience": audience,
        "modality": "school" if "schoolchildren" in what.lower() else "community",
        "girls": None,
        "boys": None,
        "women": None,
        "men": None,
        "participants_total": _int_or_none(row["participants"]),
        "organisation": ORGANISATION,
        "place_name": placed.place_name,
        "notes": _notes(what, placed),
    }


_INTEGERS = (
    "capacity", "households", "beneficiaries", "girls", "boys", "women", "men", "participants_total"
)  # fmt: skip


def _frame(layer: str, records: list[dict[str, object]]) -> gpd.GeoDataFrame:
    if not records:
        empty = {
            n: pd.Series([], dtype=object) for n in ("external_id", *REGISTRY[layer].property_names)
        }
        return layer_frame(layer, empty, [], pd.Series([], dtype=object))
    table = pd.DataFrame.from_records(records)
    columns: dict[str, pd.Series] = {}
    for name in table.columns.drop(["source", "geometry"]):
        values = table[name]
        if name in _INTEGERS:
            columns[name] = values.astype("Int64")
        elif name == "quantity":
            columns[name] = values.astype("Float64")
        else:
            columns[name] = values.astype(object)
    return layer_frame(layer, columns, table["geometry"].to_numpy(), table["source"])
