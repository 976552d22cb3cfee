"""CSV cells safe to open in a spreadsheet (OWASP's CSV injection guidance), and the inverse.

A spreadsheet runs a cell beginning with = + - @ tab or carriage return as a formula; such text
cells get a leading ' in exports. Numbers are not text and stay numbers; the importer takes the
guard off again, so an export re-imports unchanged.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def guard_cell(text: str) -> str:
    return GUARD + text if text.startswith(FORMULA_STARTS) else text


def unguard_cell(text: str) -> str:
    """The inverse of guard_cell."""
    if text.startswith(GUARD) and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
