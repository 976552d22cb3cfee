"""The layers SafeGround knows: one module each, gathered here by explicit import."""

from gis.spec import Registry
from layers import (
    distributions,
    districts,
    facilities,
    hazard_areas,
    outreach_sessions,
    villages,
)

REGISTRY = Registry(
    [
        hazard_areas.SPEC,
        facilities.SPEC,
        distributions.SPEC,
        outreach_sessions.SPEC,
        villages.SPEC,
        districts.SPEC,
    ]
)

__all__ = ["REGISTRY"]
