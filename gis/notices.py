"""What every page, map and answer says about the data: the one "not safe" notice and the one
rule that tells a synthetic (invented) record from a real one."""

from __future__ import annotations

import sqlalchemy as sa

# Shown on every map, page and analysis answer: hazard maps are incomplete (DESIGN.md, "Who uses it").
NOT_SAFE = (
    "No hazard shown does NOT mean safe: hazard maps are incomplete, and many mine incidents "
    "happen outside mapped hazard areas."
)

# Records invented for the demo say so in their source (demo/synthetic.py writes "synthetic demo");
# any source naming itself synthetic counts, so an imported synthetic file is labelled too.
SYNTHETIC_MARK = "synthetic"
SYNTHETIC = (
    "Some records shown here are invented for the demo (their source says synthetic); they are "
    "not real contamination or activity data."
)


def is_synthetic(source: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """The one test of a record's `source`: it says `synthetic` (any case)."""
    return source.icontains(SYNTHETIC_MARK, autoescape=True)
