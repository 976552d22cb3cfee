"""The coverage question's parameters, declared once for its four faces: `/analysis/coverage`,
`/maps/coverage`, `safeground coverage` and `safeground map coverage`.

`status` is not here: the answer lists uncovered targets by default, the map draws all at-risk
ones, so each face declares its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Annotated, TypedDict

import typer
from fastapi import Depends, Query

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


class CoverageKwargs(TypedDict):
    target: str | None
    by: str | None
    within_m: float
    since: str | None
    until: str | None
    risk_within_m: str
    district: str | None


@dataclass(frozen=True)
class CoverageParams:
    target: str | None = None
    by: str | None = None
    within_m: float = 2000
    since: str | None = None
    until: str | None = None
    risk_within_m: str = "5000"
    district: str | None = None

    def kwargs(self) -> CoverageKwargs:
        """As keyword arguments of `coverage_answer` and `coverage_page.coverage`."""
        return CoverageKwargs(**asdict(self))  # type: ignore[typeddict-item]


def _coverage_params(
    target: Annotated[str | None, Query(description=TARGET)] = None,
    by: Annotated[str | None, Query(description=BY)] = None,
    within_m: Annotated[float, Query(description=WITHIN_M)] = 2000,
    since: Annotated[dt.date | None, Query(description=SINCE)] = None,
    until: Annotated[dt.date | None, Query(description=UNTIL)] = None,
    risk_within_m: Annotated[str, Query(description=RISK_WITHIN_M)] = "5000",
    district: Annotated[str | None, Query(description=DISTRICT)] = None,
) -> CoverageParams:
    return CoverageParams(
        target,
        by,
        within_m,
        since.isoformat() if since else None,
        until.isoformat() if until else None,
        risk_within_m,
        district,
    )


CoverageDep = Annotated[CoverageParams, Depends(_coverage_params)]

# The same, as command-line options (typer has no dependencies: each command lists them).
TargetOption = Annotated[str | None, typer.Option(help=TARGET)]
ByOption = Annotated[str | None, typer.Option(help=BY)]
WithinOption = Annotated[float, typer.Option(help=WITHIN_M)]
SinceOption = Annotated[str | None, typer.Option(help=SINCE)]
UntilOption = Annotated[str | None, typer.Option(help=UNTIL)]
RiskOption = Annotated[str, typer.Option(help=RISK_WITHIN_M)]
DistrictOption = Annotated[str | None, typer.Option(help=DISTRICT)]
