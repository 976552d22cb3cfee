"""Outreach sessions: explosive-ordnance risk education (EORE, MRE, RASB) held in communities."""

from __future__ import annotations

import enum

import sqlalchemy as sa
from pydantic import model_validator

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


class Audience(enum.StrEnum):
    children = "children"
    adolescents = "adolescents"
    adults = "adults"
    mixed = "mixed"
    teachers = "teachers"
    farmers = "farmers"


class Modality(enum.StrEnum):
    school = "school"
    community = "community"
    door_to_door = "door_to_door"
    media = "media"
    other = "other"


PARTS = ("girls", "boys", "women", "men")


class OutreachSessionProperties(Properties):
    held_on: PastDate
    audience: Audience | None = None
    modality: Modality | None = None
    girls: Count | None = None
    boys: Count | None = None
    women: Count | None = None
    men: Count | None = None
    participants_total: Count | None = None
    organisation: ShortText | None = None
    place_name: ShortText | None = None
    notes: LongText | None = None

    @model_validator(mode="after")
    def _total_holds_the_parts(self) -> OutreachSessionProperties:
        parts = sum(getattr(self, p) or 0 for p in PARTS)
        if self.participants_total is not None and parts > self.participants_total:
            raise ValueError(
                f"participants_total {self.participants_total} is less than girls + boys + women + "
                f"men = {parts}"
            )
        return self


table = layer_table(
    "outreach_sessions",
    "Point",
    OutreachSessionProperties,
    sa.CheckConstraint(
        "participants_total IS NULL OR participants_total >= "
        "coalesce(girls, 0) + coalesce(boys, 0) + coalesce(women, 0) + coalesce(men, 0)",
        name="total_holds_parts",
        info={
            "field": "participants_total",
            "message": "must be at least girls + boys + women + men",
        },
    ),
)

SPEC = LayerSpec(
    name="outreach_sessions",
    order=40,
    title="Risk-education sessions",
    description="Explosive-ordnance risk education sessions (EORE; also MRE, or RASB: risk awareness "
    "and safer behaviour), with participants by girls, boys, women and men.",
    geometry_type="Point",
    table=table,
    properties=OutreachSessionProperties,
    temporal_field="held_on",
    restricted_fields={"notes": Role.staff},
    queryable_fields=("held_on", "audience", "modality", "organisation", "place_name"),
    popup_fields=("place_name", "held_on", "audience", "modality", "participants_total", "source"),
    tooltip_field="place_name",
    synonyms={
        "audience": {
            "school children": "children",
            "schoolchildren": "children",
            "pupils": "children",
            "youth": "adolescents",
            "teenagers": "adolescents",
            "mixed group": "mixed",
            "general public": "mixed",
            "teacher": "teachers",
            "farmer": "farmers",
        },
        "modality": {
            "school session": "school",
            "in school": "school",
            "community session": "community",
            "community meeting": "community",
            "door to door": "door_to_door",
            "house to house": "door_to_door",
            "household visit": "door_to_door",
            "household visits": "door_to_door",
            "radio": "media",
            "TV": "media",
            "social media": "media",
        },
    },
    # Out of the hazard palette: green would read as cleared land (see distributions.py).
    style=Style(color="#762a83", icon="bullhorn"),
    hxl={
        "external_id": "#activity+code",
        "held_on": "#date",
        "audience": "#targeted+type",
        "modality": "#activity+type",
        "girls": "#reached+f+children",
        "boys": "#reached+m+children",
        "women": "#reached+f+adults",
        "men": "#reached+m+adults",
        "participants_total": "#reached+total",
        "organisation": "#org+impl",
        "place_name": "#loc+name",
        "source": "#meta+source",
    },
)
