"""Facilities: rehabilitated schools, kindergartens, safe play areas, health posts, water points."""

from __future__ import annotations

import enum

from gis.spec import (
    Count,
    LayerSpec,
    LongText,
    PastDate,
    Properties,
    ShortText,
    Style,
    layer_table,
)


class FacilityType(enum.StrEnum):
    school = "school"
    kindergarten = "kindergarten"
    safe_play_area = "safe_play_area"
    health_post = "health_post"
    water_point = "water_point"
    other = "other"


class FacilityProperties(Properties):
    facility_type: FacilityType
    name: ShortText
    rehabilitated_on: PastDate | None = None
    works_done: LongText | None = None
    capacity: Count | None = None
    organisation: ShortText | None = None
    notes: LongText | None = None


table = layer_table("facilities", "Point", FacilityProperties)

SPEC = LayerSpec(
    synonyms={
        "facility_type": {
            "kindergarden": "kindergarten",
            "preschool": "kindergarten",
            "safe play space": "safe_play_area",
            "playground": "safe_play_area",
            "health centre": "health_post",
            "health center": "health_post",
            "medical point": "health_post",
            "water source": "water_point",
            "well": "water_point",
        }
    },
    name="facilities",
    order=20,
    title="Facilities",
    description="Schools, kindergartens, safe play areas, health posts and water points built or "
    "rehabilitated in conflict-affected communities.",
    geometry_type="Point",
    table=table,
    properties=FacilityProperties,
    temporal_field="rehabilitated_on",
    queryable_fields=("facility_type", "rehabilitated_on", "organisation"),
    popup_fields=("name", "facility_type", "rehabilitated_on", "works_done", "capacity", "source"),
    tooltip_field="name",
    style=Style(
        color="#2b83ba",
        color_by="facility_type",
        colors={
            "school": "#2b83ba",
            "kindergarten": "#5e3c99",
            "safe_play_area": "#17a2b8",
            "health_post": "#e7298a",
            "water_point": "#66a9cf",
            "other": "#8c510a",  # brown: a grey would read as released land
        },
        icon="school",
    ),
    hxl={
        "external_id": "#loc+code",
        "name": "#loc+name",
        "facility_type": "#indicator+type",
        "rehabilitated_on": "#date",
        "capacity": "#capacity",
        "source": "#meta+source",
    },
)
