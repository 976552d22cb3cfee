"""Reading cell values as people write them: enum synonyms, day-first and ISO dates, decimal commas.

Each function works on one column (a list of values) so that a decision such as "these dates are
day-first" is taken once per column, from all its values, and every value it cannot read is left
as it was, for the properties model to refuse with the value echoed.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence

# Letters NFKD does not decompose into a base letter and a mark.
_FOLD = str.maketrans({"ı": "i", "ə": "e", "ø": "o", "ł": "l", "ß": "ss", "đ": "d", "ħ": "h"})
_NOT_ALNUM = re.compile(r"[\W_]+")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_YMD = re.compile(r"^(\d{4})[./](\d{1,2})[./](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_INT = re.compile(r"^[+-]?\d+$")
_INT_POINT_ZERO = re.compile(r"^[+-]?\d+\.0*$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")


class DateProblem(ValueError):
    """A column whose day-first/month-first order cannot be told from its values."""


def fold(text: str) -> str:
    """The key two spellings share when they differ only in case, spacing, punctuation or accents."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_FOLD))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", plain)


def enum_lookup(
    kind: type[enum.Enum], synonyms: Mapping[str, str], mapped: Mapping[str, str]
) -> dict[str, str]:
    """Folded spelling → the enum's value, from the values themselves, the spec's synonyms and a
    mapping file's values (which win)."""
    lookup = {fold(str(e.value)): str(e.value) for e in kind}
    lookup |= {fold(k): v for k, v in synonyms.items()}
    lookup |= {fold(k): v for k, v in mapped.items()}
    return lookup


def map_values(values: list[object], lookup: Mapping[str, str]) -> list[object]:
    """Each text value replaced by the value its folded spelling stands for, if any."""
    if not lookup:
        return values
    seen: dict[object, object] = {}  # a column holds few distinct values: fold each once
    out: list[object] = []
    for v in values:
        if v is None:
            out.append(v)
        elif (hit := seen.get(v, seen)) is not seen:
            out.append(hit)
        else:
            if isinstance(v, str):
                hit = lookup.get(fold(v), v)
            elif isinstance(v, float) and v.is_integer():  # a code typed as a number in a sheet
                hit = lookup.get(fold(str(int(v))), v)
            else:
                hit = v
            seen[v] = hit
            out.append(hit)
    return out


def to_dates(values: Sequence[object], dayfirst: bool | None) -> list[object]:
    """Dates from date cells, ISO dates, ISO datetimes (the local date as written, whatever its
    offset) and d.m.yyyy / d/m/yyyy. Raises DateProblem when a column of d/m/yyyy values cannot be
    read unambiguously and `dayfirst` was not given."""
    if dayfirst is None:
        dayfirst = _day_first(values)
    seen: dict[str, object] = {}
    out: list[object] = []
    for v in values:
        if isinstance(v, str):
            if (hit := seen.get(v)) is None:
                hit = seen[v] = _to_date(v, dayfirst)
            out.append(hit)
        else:
            out.append(_to_date(v, dayfirst))
    return out


def _to_date(v: object, dayfirst: bool | None) -> object:
    if isinstance(v, dt.datetime):
        return v.date()
    if not isinstance(v, str):
        return v
    text = v.strip()
    try:
        if _ISO_DATE.match(text):
            return dt.date.fromisoformat(text)
        if _ISO_DATETIME.match(text):
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        if m := _YMD.match(text):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if (m := _DMY.match(text)) and dayfirst is not None:
            first, second, year = int(m[1]), int(m[3]), int(m[4])
            day, month = (first, second) if dayfirst else (second, first)
            return dt.date(year, month, day)
    except ValueError:
        return v  # e.g. 31.02.2025: the model refuses it, echoing the value
    return v


def _day_first(values: Sequence[object]) -> bool | None:
    """Whether the column's d?m?yyyy dates are day-first: dots always are; slashes and dashes when
    some value has a first part over 12; month-first when some has a second part over 12."""
    seps, firsts, seconds = set(), False, False
    ambiguous: str | None = None
    for v in values:
        if isinstance(v, str) and (m := _DMY.match(v.strip())):
            seps.add(m[2])
            a, b = int(m[1]), int(m[3])
            firsts |= a > 12
            seconds |= b > 12
            if a <= 12 and b <= 12 and a != b and ambiguous is None:
                ambiguous = v.strip()
    if not seps:
        return None
    if seps == {"."}:
        return True
    if firsts and seconds:
        raise DateProblem(
            "some dates have the day first and others the month first (both parts over 12 occur)"
        )
    if firsts or seconds:
        return firsts
    if ambiguous is None:
        return True  # only dates like 05/05/2025: either order gives the same day
    raise DateProblem(
        f"dates like `{ambiguous}` could be day-first or month-first: say which with --dayfirst "
        "or --monthfirst (dayfirst=true|false in the API)"
    )


def to_numbers(values: Sequence[object], integer: bool, decimal_comma: bool) -> list[object]:
    """Numbers from numeric cells and text (with a decimal comma when the file uses one)."""
    out: list[object] = []
    seen: dict[str, object] = {}
    for v in values:
        if isinstance(v, str) and (hit := seen.get(v)) is not None:
            out.append(hit)
        elif isinstance(v, str):
            seen[v] = _number(v, integer, decimal_comma)
            out.append(seen[v])
        elif integer and isinstance(v, float) and v.is_integer():
            out.append(int(v))
        else:
            out.append(v)
    return out


def _number(v: str, integer: bool, decimal_comma: bool) -> object:
    text = v.strip().replace("\u00a0", "").replace(" ", "")
    if decimal_comma:
        text = text.replace(",", ".")
    if integer and (_INT.match(text) or _INT_POINT_ZERO.match(text)):
        return int(float(text)) if "." in text else int(text)
    if not integer and _FLOAT.match(text):
        return float(text)
    return v


def to_texts(values: Sequence[object]) -> list[object]:
    """Text from cells a spreadsheet typed as numbers or dates (a code, a name like 1905)."""
    out: list[object] = []
    for v in values:
        if isinstance(v, bool):
            out.append(v)
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        elif isinstance(v, int | float):
            out.append(str(v))
        elif isinstance(v, dt.date):
            out.append(v.isoformat())
        else:
            out.append(v)
    return out


def decimal_of(cells: Sequence[object]) -> str:
    """',' when the text cells that look like decimal numbers all use a comma, else '.'."""
    comma = dot = 0
    for v in cells:
        if isinstance(v, str):
            if _COMMA_DECIMAL.match(v):
                comma += 1
            elif _DOT_DECIMAL.match(v):
                dot += 1
    return "," if comma and not dot else "."


def clip(value: object, limit: int = 60) -> str:
    """A value as echoed in a message: its text, cut to a readable length."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
