"""Single /items parameters parsed from request text: bbox, datetime intervals, timestamps, CRS.

Each parser returns a typed value or raises InvalidParameter with a message naming the parameter
and echoing (a safe, shortened form of) what was given. No database and no HTTP here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from gis.errors import InvalidParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84_ALIASES = frozenset(
    {CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "EPSG:4326", "CRS84"}
)


# --- bbox --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BBox:
    """A WGS84 longitude/latitude box, min <= max on both axes."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def parse_bbox(text: str) -> BBox:
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidParameter(
            f"bbox must be four numbers 'min_lon,min_lat,max_lon,max_lat'; got {len(parts)} value(s)"
        )
    numbers = [number("bbox", p) for p in parts]
    min_lon, min_lat, max_lon, max_lat = numbers
    for name, value, limit in (("longitude", min_lon, 180), ("latitude", min_lat, 90),
                               ("longitude", max_lon, 180), ("latitude", max_lat, 90)):  # fmt: skip
        if not -limit <= value <= limit:
            raise InvalidParameter(f"bbox {name} {value:g} is out of range (±{limit})")
    if min_lon > max_lon:
        raise InvalidParameter(
            f"bbox min longitude {min_lon:g} is greater than max longitude {max_lon:g} "
            "(boxes across the antimeridian are not supported)"
        )
    if min_lat > max_lat:
        raise InvalidParameter(
            f"bbox min latitude {min_lat:g} is greater than max latitude {max_lat:g}"
        )
    return BBox(min_lon, min_lat, max_lon, max_lat)


def check_crs(name: str, value: str | None) -> None:
    """Only CRS84 is served; accept clients that name it explicitly (QGIS does)."""
    if value is not None and value.strip() not in CRS84_ALIASES:
        raise InvalidParameter(f"{name} '{shown(value)}' is not supported: only {CRS84}")


def number(name: str, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InvalidParameter(f"{name}: '{shown(text)}' is not a number") from None
    if not math.isfinite(value):
        raise InvalidParameter(f"{name}: '{shown(text)}' is not a finite number")
    return value


# --- datetime ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """Closed interval of instants (UTC); None is an open end. Date-only ends cover the whole day."""

    start: dt.datetime | None
    end: dt.datetime | None

    def dates(self) -> tuple[dt.date | None, dt.date | None]:
        """The interval as inclusive calendar days, for date columns."""
        return (self.start.date() if self.start else None, self.end.date() if self.end else None)


def parse_datetime(text: str) -> Interval:
    """RFC 3339 instant or interval 'start/end' with '..' (or nothing) for an open end."""
    if "/" not in text:
        instant = _instant("datetime", text)
        return Interval(instant, _day_end(instant) if _is_date(text) else instant)
    if text.count("/") != 1:
        raise InvalidParameter(f"datetime '{shown(text)}' has more than one '/'")
    first, second = (p.strip() for p in text.split("/"))
    start = None if first in ("", "..") else _instant("datetime", first)
    end = None if second in ("", "..") else _instant("datetime", second)
    if end is not None and _is_date(second):
        end = _day_end(end)
    if start is not None and end is not None and start > end:
        raise InvalidParameter(f"datetime interval '{shown(text)}' ends before it starts")
    return Interval(start, end)


def parse_timestamp(name: str, text: str) -> dt.datetime:
    return _instant(name, text)


def _is_date(text: str) -> bool:
    return re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", text) is not None


def _day_end(start: dt.datetime) -> dt.datetime:
    if start.date() == dt.date.max:  # the last day of the calendar ends with it
        return dt.datetime.max.replace(tzinfo=dt.UTC)
    return start + dt.timedelta(days=1) - dt.timedelta(microseconds=1)


def _instant(name: str, text: str) -> dt.datetime:
    value = text.strip()
    if not re.fullmatch(
        r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?)?", value
    ):
        raise InvalidParameter(
            f"{name}: '{shown(text)}' is not an RFC 3339 date or date-time "
            "(e.g. 2024-05-01 or 2024-05-01T12:00:00Z)"
        )
    try:
        parsed = dt.datetime.fromisoformat(
            re.sub(r"(\.\d{6})\d+", r"\1", value.upper().replace(" ", "T"))
        )
    except ValueError as exc:
        raise InvalidParameter(f"{name}: '{shown(text)}' is not a valid date ({exc})") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        raise InvalidParameter(
            f"{name}: '{shown(text)}' is outside the calendar once its offset is applied"
        ) from None


def shown(text: str) -> str:
    """Caller text echoed in a message: shortened, control characters made visible."""
    cut = text if len(text) <= 60 else text[:57] + "..."
    return cut.encode("unicode_escape").decode("ascii") if not cut.isprintable() else cut
