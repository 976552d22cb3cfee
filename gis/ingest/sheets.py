"""Spreadsheets (.xlsx, .ods) through python-calamine: one sheet, its cells typed (numbers as
numbers, dates as dates); the other sheets — a KoBoToolbox export's repeat groups — are named in
the report as not imported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from gis.errors import invalid
from gis.ingest.options import ReadOptions
from gis.ingest.values import decimal_of


def read_sheet(path: Path, options: ReadOptions) -> tuple[pd.DataFrame, dict[str, object]]:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
    except (CalamineError, OSError, ValueError) as exc:
        raise invalid(
            f"'{path.name}' could not be read as a spreadsheet: {str(exc)[:200]}"
        ) from exc
    if not names:
        raise invalid(f"'{path.name}' has no sheets")
    sheet = options.sheet or names[0]
    if sheet not in names:
        raise invalid(
            f"'{path.name}' has no sheet `{sheet}` (its sheets: {', '.join(names)}): "
            "name one with --sheet"
        )
    try:
        rows = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as exc:
        raise invalid(f"the sheet `{sheet}` of '{path.name}' could not be read: {exc}") from exc
    while rows and all(c == "" for c in rows[-1]):
        rows.pop()
    if not rows:
        raise invalid(f"the sheet `{sheet}` of '{path.name}' is empty")
    header = [str(c).strip() if c != "" else f"column_{i + 1}" for i, c in enumerate(rows[0])]
    width = len(header)
    body = [list(r[:width]) + [""] * (width - len(r)) for r in rows[1:]]
    table = pd.DataFrame(body, columns=header, dtype=object)
    others = []
    for name in names:
        if name != sheet:
            count = max(0, len(workbook.get_sheet_by_name(name).to_python()) - 1)
            others.append(f"{name} ({count} rows)")
    detected: dict[str, object] = {
        "format": "OpenDocument spreadsheet" if path.suffix.lower() == ".ods" else "Excel workbook",
        "sheet": sheet,
        "decimal": options.decimal or decimal_of(table.head(500).to_numpy().ravel().tolist()),
    }
    if others:
        detected["sheets_not_imported"] = others
    return table, detected
