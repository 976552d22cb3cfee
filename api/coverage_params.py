"""The coverage question's parameters, declared once for its four faces: `/analysis/coverage`,
`/maps/coverage`, `safeground coverage` and `safeground map coverage`.

`status` is not here: the answer lists uncovered targets by default, the map draws all at-risk
ones, so each face declares its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from fastapi import Depends, Query

from gis.analysis.answers import CoverageAsk, risk_distance

TARGET = "Point layer to rank (default villages)"
BY = "What covers a target (default outreach_sessions; any point or polygon layer)"
WITHIN_M = "A target is covered by a `by` feature this close, in geodesic metres"
SINCE = "Window start, YYYY-MM-DD (default until − 364 days)"
UNTIL = (
    "Window end, YYYY-MM-DD (default today); also the day whose hazard status counts: hazard "
    "areas recorded by then and active then"
)
RISK_WITHIN_M = (
    "At risk within this distance (metres) of an active hazard; 'none' drops the condition"
)
DISTRICT = "One district, by name or code (e.g. Aghdam, AZ.AM)"


def _coverage_params(
    target: Annotated[str | None, Query(description=TARGET)] = None,
    by: Annotated[str | None, Query(description=BY)] = None,
    within_m: Annotated[float, Query(description=WITHIN_M)] = 2000,
    since: Annotated[dt.date | None, Query(description=SINCE)] = None,
    until: Annotated[dt.date | None, Query(description=UNTIL)] = None,
    risk_within_m: Annotated[str, Query(description=RISK_WITHIN_M)] = "5000",
    district: Annotated[str | None, Query(description=DISTRICT)] = None,
) -> CoverageAsk:
    """The question, typed; `status` is each face's own (see the module docstring)."""
    return CoverageAsk(
        target=target,
        by=by,
        within_m=within_m,
        risk_within_m=risk_distance(risk_within_m),
        since=since,
        until=until,
        district=district,
    )


CoverageDep = Annotated[CoverageAsk, Depends(_coverage_params)]

# The same, as command-line options (typer has no dependencies: each command lists them).
TargetOption = Annotated[str | None, typer.Option(help=TARGET)]
ByOption = Annotated[str | None, typer.Option(help=BY)]
WithinOption = Annotated[float, typer.Option(help=WITHIN_M)]
SinceOption = Annotated[str | None, typer.Option(help=SINCE)]
UntilOption = Annotated[str | None, typer.Option(help=UNTIL)]
RiskOption = Annotated[str, typer.Option(help=RISK_WITHIN_M)]
DistrictOption = Annotated[str | None, typer.Option(help=DISTRICT)]
