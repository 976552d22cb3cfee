"""The items query a caller asks for, checked against the layer and the caller's role: property
filters, sort, page and cursor (single parameters are parsed in `params`).

Everything here turns request text into typed values or raises InvalidParameter with a message
naming the parameter; nothing here touches the database, and no HTTP either. What a caller may
filter or sort on comes only from the layer spec and the caller's role, so a hidden field answers
exactly like a field that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import orjson
import sqlalchemy as sa

from gis.errors import InvalidParameter
from gis.params import BBox, Interval, number, shown
from gis.spec import LayerSpec, Role

# Parameters of /items that are not property filters (OGC names plus SafeGround's own).
RESERVED = frozenset(
    {"f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "cursor", "sortby",
     "updated_since", "include_deleted", "count", "hxl", "raw", "api_key"}
)  # fmt: skip
MAX_TEXT_VALUE_CHARS = 300
MAX_FILTER_VALUES = 100
INT32 = 2**31 - 1
INT64 = 2**63 - 1
MAX_OFFSET = 1_000_000_000


# --- property filters and sorting ----------------------------------------------------------------


def queryables(spec: LayerSpec, role: Role) -> tuple[str, ...]:
    """The queryable fields this role may see, in the spec's order."""
    visible = set(spec.visible_fields(role))
    return tuple(f for f in spec.queryable_fields if f in visible)


@dataclass(frozen=True)
class Filter:
    """`field = ANY(values)`: repeating a parameter means 'any of these'."""

    field: str
    values: tuple[object, ...]


def parse_filters(
    spec: LayerSpec, role: Role, params: Iterable[tuple[str, str]]
) -> tuple[Filter, ...]:
    """Property filters from the query parameters that are not reserved; anything else is refused."""
    allowed = queryables(spec, role)
    grouped: dict[str, list[object]] = {}
    for name, text in params:
        if name in RESERVED:
            continue
        if name not in allowed:
            raise InvalidParameter(_not_queryable(spec, name, allowed))
        grouped.setdefault(name, []).append(coerce(spec, name, text))
    for name, values in grouped.items():
        if len(values) > MAX_FILTER_VALUES:
            raise InvalidParameter(f"{name}: at most {MAX_FILTER_VALUES} values")
    return tuple(Filter(name, tuple(values)) for name, values in grouped.items())


@dataclass(frozen=True)
class Sort:
    """Order of the items: one field (or the id) ascending or descending; the id breaks ties."""

    field: str | None = None
    descending: bool = False

    @property
    def token(self) -> str:
        return f"{'-' if self.descending else '+'}{self.field or 'id'}"


def parse_sortby(spec: LayerSpec, role: Role, text: str | None) -> Sort:
    if text is None or text.strip() == "":
        return Sort()
    value = text.strip()
    if "," in value:
        raise InvalidParameter("sortby: only one field can be given")
    descending = value.startswith("-")
    name = value.lstrip("+- ")
    if name == "id":
        return Sort(None, descending)
    allowed = queryables(spec, role)
    if name not in allowed:
        raise InvalidParameter("sortby: " + _not_queryable(spec, name, allowed))
    return Sort(name, descending)


def _not_queryable(spec: LayerSpec, name: str, allowed: tuple[str, ...]) -> str:
    # Same words for unknown, hidden and non-queryable fields: a hidden field must not be confirmed.
    return (
        f"'{shown(name)}' is not a queryable field of collection '{spec.name}' "
        f"(queryables: {', '.join(allowed) or 'none'})"
    )


BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def coerce(spec: LayerSpec, name: str, text: str) -> object:
    """A filter or cursor value as the column's Python type; refuses what the column cannot hold."""
    column = spec.table.c[name]
    choices = enum_values(spec, name)
    if choices is not None:
        if text not in choices:
            raise InvalidParameter(f"{name}: '{shown(text)}' is not one of {', '.join(choices)}")
        return text
    kind = column.type
    if isinstance(kind, sa.Boolean):
        flag = BOOLEAN_WORDS.get(text.strip().lower())
        if flag is None:
            raise InvalidParameter(f"{name}: '{shown(text)}' is not true or false")
        return flag
    if isinstance(kind, sa.DateTime):
        try:
            instant = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidParameter(
                f"{name}: '{shown(text)}' is not an RFC 3339 date-time"
            ) from None
        return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)
    if isinstance(kind, sa.Date):
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            raise InvalidParameter(f"{name}: '{shown(text)}' is not a date (YYYY-MM-DD)") from None
    if isinstance(kind, sa.Integer):
        if not re.fullmatch(r"\s*[+-]?\d{1,19}\s*", text):
            raise InvalidParameter(f"{name}: '{shown(text)}' is not an integer")
        value = int(text)
        bound = INT64 if isinstance(kind, sa.BigInteger) else INT32
        if not -bound <= value <= bound:
            raise InvalidParameter(f"{name}: {value} is out of range")
        return value
    if isinstance(kind, sa.Float):
        return number(name, text)
    if len(text) > MAX_TEXT_VALUE_CHARS or "\x00" in text:
        raise InvalidParameter(
            f"{name}: value too long or not text (max {MAX_TEXT_VALUE_CHARS} characters)"
        )
    return text


def enum_values(spec: LayerSpec, name: str) -> tuple[str, ...] | None:
    info = spec.properties.model_fields.get(name)
    if info is None:
        return None
    annotation = info.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(
            (a for a in typing.get_args(annotation) if a is not type(None)), annotation
        )
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(str(m.value) for m in annotation)
    return None


# --- paging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a keyset page starts: after (or, going back, before) the row with this sort key."""

    sort: str  # Sort.token the cursor was made for
    backward: bool
    value: object  # the sort field's value at the edge row (None for the id sort or a null)
    row_id: int


def encode_cursor(sort: Sort, backward: bool, key_json: str) -> str:
    """An opaque token from the edge row's key as PostgreSQL rendered it (`[value, id]` or `[id]`)."""
    raw = b'{"s":' + orjson.dumps(sort.token) + b',"b":' + (b"true" if backward else b"false")
    raw += b',"k":' + key_json.encode() + b"}"
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(spec: LayerSpec, sort: Sort, token: str) -> Cursor:
    malformed = InvalidParameter("cursor is malformed: use the links the server returned")
    if len(token) > 2000:
        raise malformed
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        raise malformed from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("k"), list)
        or not isinstance(data.get("b"), bool)
    ):
        raise malformed
    if data.get("s") != sort.token:
        raise InvalidParameter(
            f"cursor was made for sortby={data.get('s')!s:.40}, not {sort.token}"
        )
    key = data["k"]
    if len(key) != (1 if sort.field is None else 2) or type(key[-1]) is not int:
        raise malformed
    value: object = None
    if sort.field is not None and key[0] is not None:
        if not isinstance(key[0], str | int | float) or isinstance(key[0], bool):
            raise malformed
        value = coerce(spec, sort.field, str(key[0]))
    return Cursor(sort.token, data["b"], value, key[-1])


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int = 0
    cursor_token: str | None = None
    explicit: bool = True  # the caller asked for a page (exports are whole otherwise)


def parse_page(
    limit: int | None, offset: int | None, cursor: str | None, default_limit: int, max_limit: int
) -> Paging:
    asked = limit is not None or bool(offset) or bool(cursor)
    if limit is None:
        limit = default_limit
    if not 1 <= limit <= max_limit:
        raise InvalidParameter(f"limit must be between 1 and {max_limit:,}; got {limit}")
    if offset is not None and not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameter(
            f"offset must be between 0 and {MAX_OFFSET:,} (deep pages: follow the next links); got {offset}"
        )
    if offset and cursor:
        raise InvalidParameter("give either offset or cursor, not both")
    return Paging(limit, offset or 0, cursor or None, explicit=asked)


# --- the whole query ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemsQuery:
    """Everything /items was asked, checked against the layer and the caller's role."""

    spec: LayerSpec
    fields: tuple[str, ...]  # visible output fields
    page: Paging
    bbox: BBox | None = None
    interval: Interval | None = None
    filters: tuple[Filter, ...] = ()
    sort: Sort = field(default_factory=Sort)
    cursor: Cursor | None = None
    updated_since: dt.datetime | None = None
    include_deleted: bool = False

    @property
    def sync(self) -> bool:
        """Incremental sync: features carry updated_at, and tombstones may appear."""
        return self.updated_since is not None or self.include_deleted

    def describe(self) -> dict[str, object]:
        """The filters as plain JSON values, for the audit log."""
        out: dict[str, object] = {f.field: [str(v) for v in f.values] for f in self.filters}
        if self.bbox:
            b = self.bbox
            out["bbox"] = [b.min_lon, b.min_lat, b.max_lon, b.max_lat]
        if self.interval:
            out["datetime"] = [
                str(v) if v else ".." for v in (self.interval.start, self.interval.end)
            ]
        if self.updated_since:
            out["updated_since"] = self.updated_since.isoformat()
        if self.include_deleted:
            out["include_deleted"] = True
        if self.sort.field:
            out["sortby"] = self.sort.token
        return out


def build_items_query(
    spec: LayerSpec,
    role: Role,
    params: Mapping[str, str] | Iterable[tuple[str, str]],
    page: Paging,
    *,
    bbox: BBox | None = None,
    interval: Interval | None = None,
    sortby: str | None = None,
    updated_since: dt.datetime | None = None,
    include_deleted: bool = False,
) -> ItemsQuery:
    if interval is not None and spec.temporal_field is None:
        raise InvalidParameter(
            f"collection '{spec.name}' has no temporal field: datetime cannot be used"
        )
    pairs = params.items() if isinstance(params, Mapping) else params
    sort = parse_sortby(spec, role, sortby)
    cursor = decode_cursor(spec, sort, page.cursor_token) if page.cursor_token else None
    return ItemsQuery(
        spec=spec,
        fields=spec.visible_fields(role),
        page=page,
        bbox=bbox,
        interval=interval,
        filters=parse_filters(spec, role, pairs),
        sort=sort,
        cursor=cursor,
        updated_since=updated_since,
        include_deleted=include_deleted,
    )
