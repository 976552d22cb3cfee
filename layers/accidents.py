"""Accidents: explosive-ordnance accidents and their casualties, as the GICHD Minimum Data
Requirements record them — with no name or other personal identifier of any victim."""

from __future__ import annotations

import enum

import sqlalchemy as sa

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
from layers.hazard_areas import HazardType


class Activity(enum.StrEnum):
    """What the people hurt were doing when the device went off."""

    farming = "farming"
    herding = "herding"
    collecting_scrap = "collecting_scrap"
    travel = "travel"
    playing = "playing"
    demining = "demining"
    other = "other"


PARTS = ("girls", "boys", "women", "men")


class AccidentProperties(Properties):
    accident_on: PastDate
    device_category: HazardType  # the same list as hazard types
    activity: Activity | None = None
    killed_girls: Count | None = None
    killed_boys: Count | None = None
    killed_women: Count | None = None
    killed_men: Count | None = None
    injured_girls: Count | None = None
    injured_boys: Count | None = None
    injured_women: Count | None = None
    injured_men: Count | None = None
    during_clearance: bool | None = None
    source_organisation: ShortText | None = None
    notes: LongText | None = None


def _total(outcome: str) -> sa.Column:
    """Killed or injured in all, computed by the database; unknown when no part is known."""
    parts = [f"{outcome}_{p}" for p in PARTS]
    known = " + ".join(f"coalesce({p}, 0)" for p in parts)
    return sa.Column(
        f"{outcome}_total",
        sa.Integer,
        sa.Computed(
            f"CASE WHEN coalesce({', '.join(parts)}) IS NULL THEN NULL ELSE {known} END",
            persisted=True,
        ),
    )


table = layer_table("accidents", "Point", AccidentProperties, _total("killed"), _total("injured"))

SPEC = LayerSpec(
    name="accidents",
    order=50,
    title="Accidents",
    description="Explosive-ordnance accidents: when, the device, what people were doing, and "
    "the people killed and injured by girls, boys, women and men. No victim is named. Many "
    "accidents happen outside mapped hazard areas: an area with no hazard shown is not safe.",
    geometry_type="Point",
    table=table,
    properties=AccidentProperties,
    temporal_field="accident_on",
    read_role=Role.partner,
    restricted_fields={"notes": Role.staff},
    computed_fields=("killed_total", "injured_total"),
    queryable_fields=(
        "accident_on",
        "device_category",
        "activity",
        "during_clearance",
        "source_organisation",
    ),
    popup_fields=(
        "accident_on",
        "device_category",
        "activity",
        "killed_total",
        "injured_total",
        "during_clearance",
        "source_organisation",
        "source",
    ),
    tooltip_field="device_category",
    # Black: out of the hazard palette (red to green) and of the activities' colours.
    style=Style(color="#1a1a1a", icon="burst"),
    hxl={
        "external_id": "#event+code",
        "accident_on": "#date+occurred",
        "device_category": "#event+type+device",
        "activity": "#event+type+activity",
        **{
            f"{o}_{p}": f"#affected+{o}+{t}"
            for o in ("killed", "injured")
            for p, t in zip(
                PARTS, ("f+children", "m+children", "f+adults", "m+adults"), strict=True
            )
        },
        "killed_total": "#affected+killed+total",
        "injured_total": "#affected+injured+total",
        "during_clearance": "#indicator+clearance",
        "source_organisation": "#org+source",
        "source": "#meta+source",
    },
)
