"""`safeground coverage …`: the coverage analysis from the command line, with the API's parameters.

Prints the ranked targets and the summary as tables; `--csv FILE` and `--geojson FILE` write the
whole answer. The CLI runs with admin rights, like `safeground export`: it has the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.coverage_params import (
    ByOption,
    DistrictOption,
    RiskOption,
    SinceOption,
    TargetOption,
    UntilOption,
    WithinOption,
)
from gis import db
from gis.analysis.answers import CoverageAsk, coverage_answer
from gis.analysis.common import csv_text
from gis.analysis.coverage import PRIORITY_FORMULA, CoverageAnswer
from gis.errors import SafeGroundError
from gis.settings import Settings
from gis.spec import Role
from layers import REGISTRY

console = Console()
err = Console(stderr=True)


def coverage(
    target: TargetOption = None,
    by: ByOption = None,
    within_m: WithinOption = 2000,
    since: SinceOption = None,
    until: UntilOption = None,
    risk_within_m: RiskOption = "5000",
    district: DistrictOption = None,
    status: Annotated[str, typer.Option(help="uncovered, covered or all")] = "uncovered",
    csv: Annotated[
        Path | None, typer.Option("--csv", help="write every listed target as CSV", dir_okay=False)
    ] = None,
    geojson: Annotated[
        Path | None,
        typer.Option("--geojson", help="write the whole answer as GeoJSON", dir_okay=False),
    ] = None,
    limit: Annotated[int, typer.Option(help="rows to print (0: all)")] = 25,
    districts: Annotated[bool, typer.Option(help="print the per-district summary")] = True,
) -> None:
    """Which targets near active hazards have had no `by` feature within reach in the window."""
    settings = Settings()
    engine = db.make_engine(settings.database)
    try:
        with engine.connect() as conn:
            ask = CoverageAsk.from_text(
                target=target,
                by=by,
                within_m=within_m,
                since=since,
                until=until,
                risk_within_m=risk_within_m,
                district=district,
                status=status,
            )
            answer = coverage_answer(conn, REGISTRY, settings.analysis, Role.admin, ask)
            conn.commit()  # the measured pairs refreshed for this question are kept
    except SafeGroundError as exc:
        err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    body = answer.body
    if geojson:
        geojson.write_bytes(body)
    if csv:
        csv.write_text(
            csv_text(body, ("external_id", "name", "district", "priority")), encoding="utf-8"
        )
    _print(answer, limit, districts)
    for path in (p for p in (geojson, csv) if p):
        console.print(f"wrote {path}")


def _print(answer: CoverageAnswer, limit: int, districts: bool) -> None:
    q, summary, features = answer.question, answer.summary, answer.collection["features"]
    window = f"{q.window.since} – {q.window.until}" if q.window else "any date"
    console.print(
        f"[bold]{q.target.name}[/] covered by [bold]{q.by.name}[/] within {q.within_m:,.0f} m, "
        f"{window}; "
        + (
            f"at risk within {_n(q.risk_within_m)} m of an active hazard"
            if q.risk_within_m is not None
            else "every target counts (no risk condition)"
        )
        + (f"; district {q.area_label}" if q.area_label else ""),
        highlight=False,
    )
    shown = features if limit <= 0 else features[:limit]
    table = Table(
        "#",
        "name",
        "district",
        "people",
        "hazard m",
        "hazards",
        "last",
        "days",
        "covered",
        "priority",
        title=f"{q.status} targets, by priority ({len(features):,})",
    )
    for i, f in enumerate(shown, 1):
        p = f["properties"]
        table.add_row(
            str(i),
            str(p.get("name") or p.get("external_id")),
            str(p.get("district") or "–"),
            _n(p.get("population")),
            _n(p.get("nearest_hazard_m")),
            _n(p.get("hazards_within")),
            str(p.get("last_by_on") or "never"),
            _n(p.get("days_since_last")),
            "yes" if p.get("covered") else "no",
            f"{p.get('priority', 0):.3f}",
        )
    console.print(table)
    if len(shown) < len(features):
        console.print(
            f"… {len(features) - len(shown):,} more (--limit 0 shows all, --csv writes all)"
        )
    if districts and summary["districts"]:
        per = Table(
            "district",
            "code",
            "at risk",
            "covered",
            "uncovered",
            "coverage %",
            "people at risk",
            "people covered",
            title="per district",
        )
        for d in summary["districts"]:
            if d["at_risk"]:
                per.add_row(
                    str(d["district"] or "(none)"),
                    str(d["district_code"] or ""),
                    _n(d["at_risk"]),
                    _n(d["covered"]),
                    _n(d["uncovered"]),
                    _n(d["coverage_pct"]),
                    _n(d["people_at_risk"]),
                    _n(d["people_covered"]),
                )
        console.print(per)
    console.print(
        f"[bold]{summary['at_risk']:,}[/] at risk, {summary['covered']:,} covered, "
        f"[bold]{summary['uncovered']:,} uncovered[/] ({_n(summary['coverage_pct'])} % covered); "
        f"people at risk {summary['people_at_risk']:,}, covered {summary['people_covered']:,} "
        f"(known populations; {summary['at_risk_population_unknown']:,} at-risk targets of unknown size)",
        highlight=False,
    )
    console.print(f"[dim]{PRIORITY_FORMULA}[/]", highlight=False)
    console.print(f"[yellow]{answer.collection['notice']}[/]", highlight=False)


def _n(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return (
            f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"
        )
    return str(value)
