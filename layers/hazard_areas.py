"""Hazard areas: land suspected or confirmed to hold mines or explosive remnants of war."""

from __future__ import annotations

import enum

import sqlalchemy as sa

from gis.notices import NOT_SAFE
from gis.spec import (
    LayerSpec,
    LongText,
    PastDate,
    Properties,
    Role,
    ShortText,
    Style,
    layer_table,
)


class HazardType(enum.StrEnum):
    AP_mine = "AP_mine"
    AT_mine = "AT_mine"
    mixed = "mixed"
    cluster_munitions = "cluster_munitions"
    UXO_ERW = "UXO_ERW"
    IED = "IED"
    unknown = "unknown"


class HazardStatus(enum.StrEnum):
    suspected = "suspected"  # SHA: suspected hazardous area
    confirmed = "confirmed"  # CHA: confirmed hazardous area
    reduced = "reduced"
    cancelled = "cancelled"
    cleared = "cleared"


# Statuses under which the ground is still to be treated as dangerous.
ACTIVE_STATUSES = (HazardStatus.suspected, HazardStatus.confirmed)


class HazardAreaProperties(Properties):
    name: ShortText | None = None
    hazard_type: HazardType
    status: HazardStatus
    recorded_on: PastDate
    status_changed_on: PastDate | None = None
    survey_method: ShortText | None = None
    source_organisation: ShortText | None = None
    notes: LongText | None = None


table = layer_table(
    "hazard_areas",
    "MultiPolygon",
    HazardAreaProperties,
    sa.Column("area_m2", sa.Double, sa.Computed("ST_Area(geom::geography)", persisted=True)),
    sa.CheckConstraint(
        "status_changed_on IS NULL OR status_changed_on >= recorded_on",
        name="status_after_record",
        info={"field": "status_changed_on", "message": "must be on or after recorded_on"},
    ),
)

SPEC = LayerSpec(
    name="hazard_areas",
    order=10,
    title="Hazard areas",
    description="Areas suspected (SHA) or confirmed (CHA) to contain mines, cluster munitions or "
    "other explosive remnants of war, and land released by survey or clearance. Hazard maps are "
    "incomplete: an area with no hazard shown is not known to be safe.",
    geometry_type="MultiPolygon",
    table=table,
    properties=HazardAreaProperties,
    temporal_field="recorded_on",
    active_filter={"status": tuple(str(s) for s in ACTIVE_STATUSES)},
    status_changed_field="status_changed_on",
    read_role=Role.partner,
    restricted_fields={"notes": Role.staff},
    computed_fields=("area_m2",),
    queryable_fields=(
        "hazard_type",
        "status",
        "recorded_on",
        "status_changed_on",
        "source_organisation",
    ),
    notice=NOT_SAFE,
    # IMSMA-style and everyday spellings; matched ignoring case, spaces, punctuation and accents.
    synonyms={
        "status": {
            "CHA": "confirmed",
            "confirmed hazardous area": "confirmed",
            "SHA": "suspected",
            "suspected hazardous area": "suspected",
            "canceled": "cancelled",
            "cancelled by non-technical survey": "cancelled",
            "reduced by technical survey": "reduced",
            "clearance completed": "cleared",
        },
        "hazard_type": {
            "Anti-personnel mine": "AP_mine",
            "Anti-personnel mines": "AP_mine",
            "AP mines": "AP_mine",
            "APM": "AP_mine",
            "Anti-tank mine": "AT_mine",
            "Anti-tank mines": "AT_mine",
            "AT mines": "AT_mine",
            "ATM": "AT_mine",
            "AP/AT mines": "mixed",
            "mixed mines": "mixed",
            "cluster munition": "cluster_munitions",
            "CMR": "cluster_munitions",
            "submunitions": "cluster_munitions",
            "UXO": "UXO_ERW",
            "ERW": "UXO_ERW",
            "AXO": "UXO_ERW",
            "unexploded ordnance": "UXO_ERW",
            "explosive remnants of war": "UXO_ERW",
            "improvised explosive device": "IED",
            "not known": "unknown",
        },
    },
    popup_fields=(
        "name",
        "hazard_type",
        "status",
        "recorded_on",
        "status_changed_on",
        "area_m2",
        "source",
    ),
    tooltip_field="name",
    style=Style(
        color="#7f7f7f",
        color_by="status",
        colors={
            "confirmed": "#d7191c",
            "suspected": "#fdae61",
            "reduced": "#a6d96a",
            "cleared": "#1a9641",
            "cancelled": "#bababa",
        },
        labels={
            "confirmed": "Confirmed hazardous area (CHA)",
            "suspected": "Suspected hazardous area (SHA)",
            "reduced": "Reduced (released by technical survey)",
            "cleared": "Cleared",
            "cancelled": "Cancelled (released by non-technical survey)",
        },
        icon="exclamation-triangle",
    ),
    hxl={
        "external_id": "#loc+code",
        "name": "#loc+name",
        "hazard_type": "#hazard+type",
        "status": "#status",
        "recorded_on": "#date+recorded",
        "area_m2": "#affected+area_m2",
        "source": "#meta+source",
    },
)
