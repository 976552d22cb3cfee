"""Distributions: food, fertiliser, seeds, hygiene kits, cash and shelter handed out to households."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import Field

from gis.spec import (
    Count,
    LayerSpec,
    LongText,
    PastDate,
    Properties,
    Role,
    ShortText,
    Style,
    layer_table,
)


class ItemCategory(enum.StrEnum):
    food = "food"
    fertiliser = "fertiliser"
    seeds = "seeds"
    hygiene = "hygiene"
    cash = "cash"
    shelter = "shelter"
    other = "other"


class DistributionProperties(Properties):
    distributed_on: PastDate
    item_category: ItemCategory
    quantity: Annotated[float, Field(ge=0)] | None = None
    unit: ShortText | None = None
    households: Count | None = None
    beneficiaries: Count | None = None
    partner_organisation: ShortText | None = None
    place_name: ShortText | None = None
    notes: LongText | None = None


table = layer_table("distributions", "Point", DistributionProperties)

SPEC = LayerSpec(
    synonyms={
        "item_category": {
            "food parcels": "food",
            "food parcel": "food",
            "fertilizer": "fertiliser",
            "seed": "seeds",
            "hygiene kits": "hygiene",
            "hygiene kit": "hygiene",
            "cash transfer": "cash",
            "shelter materials": "shelter",
        }
    },
    name="distributions",
    order=30,
    title="Distributions",
    description="Aid distributions (food, fertiliser, seeds, hygiene, cash, shelter) to households "
    "in affected communities.",
    geometry_type="Point",
    table=table,
    properties=DistributionProperties,
    temporal_field="distributed_on",
    read_role=Role.partner,
    restricted_fields={"households": Role.staff, "beneficiaries": Role.staff, "notes": Role.staff},
    queryable_fields=("distributed_on", "item_category", "partner_organisation", "place_name"),
    popup_fields=(
        "place_name",
        "distributed_on",
        "item_category",
        "quantity",
        "unit",
        "households",
        "source",
    ),
    tooltip_field="place_name",
    # Activity colours stay out of the hazard palette (reds, oranges, greens, greys), so a cluster of
    # activities is never read as a hazard or as cleared land.
    style=Style(color="#253494", color_by="item_category", icon="gift"),
    hxl={
        "external_id": "#activity+code",
        "distributed_on": "#date",
        "item_category": "#item+type",
        "quantity": "#item+num",
        "unit": "#item+unit",
        "households": "#reached+hh",
        "beneficiaries": "#reached+ind",
        "partner_organisation": "#org+impl",
        "place_name": "#loc+name",
        "source": "#meta+source",
    },
)
