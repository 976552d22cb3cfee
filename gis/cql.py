"""CQL2 filters (OGC API – Features Part 3) compiled to SQLAlchemy Core over a layer's queryables.

The `cql2` library parses and validates the text or JSON encoding; this module walks the
resulting CQL2-JSON tree and builds the WHERE clause. Every literal becomes a bound parameter
named by its position (`cql_0`, `cql_1`, …), and the tree with its literals replaced by their
kinds is the filter's *shape*, so a statement compiled once serves every filter of that shape.
Properties are only the queryables the caller's role may see, plus the geometry: anything else,
a hidden field included, is refused with the very words an unknown field gets.

Spatial literals are transformed from `filter-crs` into storage (the column never is), so the
GiST index is used. S_DWITHIN is geodesic metres on the WGS 84 ellipsoid, as in the analyses
(`ST_DWithin` on geography). Temporal operators treat a date or timestamp as an instant and an
interval's ends as given ('..' is open), with Allen's relations as CQL2 defines them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cql2
import shapely
import shapely.geometry
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from gis.cql_terms import SPATIAL, TEMPORAL, UNITS_M, literal_shape
from gis.crs import CRS84, Crs, to_storage
from gis.errors import InvalidParameter
from gis.params import parse_timestamp, shown
from gis.spec import geography

MAX_FILTER_CHARS = 50_000
MAX_NODES = 1_000
MAX_POSITIONS = 20_000
GEOMETRY_NAMES = ("geometry", "geom")
# cql-text is the draft's name for the text encoding, still sent by GDAL's OAPIF driver up to 3.7.
FILTER_LANGS = ("cql2-text", "cql2-json", "cql-text")
CONFORMANCE = tuple(
    "http://www.opengis.net/spec/" + c
    for c in (
        "ogcapi-features-3/1.0/conf/filter",
        "ogcapi-features-3/1.0/conf/features-filter",
        "ogcapi-features-3/1.0/conf/queryables",
        "ogcapi-features-3/1.0/conf/queryables-query-parameters",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/cql2-json",
        "cql2/1.0/conf/basic-cql2",
        "cql2/1.0/conf/advanced-comparison-operators",
        "cql2/1.0/conf/case-insensitive-comparison",
        "cql2/1.0/conf/accent-insensitive-comparison",
        "cql2/1.0/conf/basic-spatial-functions",
        "cql2/1.0/conf/basic-spatial-functions-plus",
        "cql2/1.0/conf/spatial-functions",
        "cql2/1.0/conf/temporal-functions",
    )
)
_COMPARE = {
    "=": "__eq__",
    "<>": "__ne__",
    "<": "__lt__",
    "<=": "__le__",
    ">": "__gt__",
    ">=": "__ge__",
}
_FAR_DATE = (dt.date(1, 1, 1), dt.date(9999, 12, 31))
_FAR_TIME = (dt.datetime(1, 1, 2, tzinfo=dt.UTC), dt.datetime(9999, 12, 30, tzinfo=dt.UTC))


def parse(text: str, lang: str | None) -> dict[str, Any]:
    """A `filter` parameter as CQL2-JSON, checked by the cql2 library; refusals name the problem."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidParameter(f"filter is longer than {MAX_FILTER_CHARS:,} characters")
    kind = (lang or "cql2-text").strip().lower()
    try:
        if kind in ("cql2-text", "cql-text"):
            expr = cql2.parse_text(text)
        elif kind == "cql2-json":
            expr = cql2.parse_json(text)
        else:
            raise InvalidParameter(
                f"filter-lang '{shown(kind)}' is not supported; use cql2-text or cql2-json"
            )
        tree = expr.to_json()
    except (cql2.ParseError, cql2.ValidationError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "cannot be parsed"
        raise InvalidParameter(f"filter ({kind}) is not valid CQL2: {first[:300]}") from None
    if not isinstance(tree, dict):
        raise InvalidParameter("filter must be a CQL2 expression, not a bare value")
    return tree


@dataclass(frozen=True)
class Column:
    """What the compiler may know of a queryable: its SQL type."""

    name: str
    type: sa.types.TypeEngine


@dataclass(frozen=True)
class CqlFilter:
    """A checked filter: its tree (JSON text), its shape (the cache key), its bound values."""

    tree: str
    shape: str
    values: tuple[tuple[str, object], ...]
    crs: Crs

    def clause(self, table: sa.Table | sa.FromClause) -> sa.ColumnElement[bool]:
        return _Compiler(table, None, self.crs, None).boolean(json.loads(self.tree))

    def describe(self) -> str:
        return self.tree


def compile_filter(
    tree: dict[str, Any],
    table: sa.Table,
    allowed: tuple[str, ...],
    refuse: Callable[[str], InvalidParameter],
    crs: Crs = CRS84,
) -> CqlFilter:
    """Check a CQL2-JSON tree against the queryables and collect its values and shape."""
    compiler = _Compiler(table, allowed, crs, refuse)
    compiler.boolean(tree)
    return CqlFilter(
        tree=json.dumps(tree, sort_keys=True),
        shape="".join(compiler.shape),
        values=tuple(compiler.values.items()),
        crs=crs,
    )


class _Compiler:
    """One walk of the tree: builds the SQL, and on the checking pass the values and the shape."""

    def __init__(
        self,
        table: sa.Table | sa.FromClause,
        allowed: tuple[str, ...] | None,
        crs: Crs,
        refuse: Callable[[str], InvalidParameter] | None,
    ) -> None:
        self.t = table
        self.allowed = allowed
        self.crs = crs
        self.refuse = refuse
        self.values: dict[str, object] = {}
        self.shape: list[str] = []
        self.nodes = 0
        self.positions = 0

    # --- values --------------------------------------------------------------------------------

    def bind(self, value: object, type_: sa.types.TypeEngine, kind: str) -> sa.BindParameter:
        name = f"cql_{len(self.values)}"
        self.values[name] = value
        self.shape.append(f"${kind}")
        return sa.bindparam(name, type_=type_)

    def column(self, node: Any) -> Column | None:
        """The column a `{"property": name}` node names, or None if the node is not a property."""
        if not (isinstance(node, dict) and set(node) == {"property"}):
            return None
        name = node["property"]
        if not isinstance(name, str):
            raise InvalidParameter("filter: a property name must be text")
        if name.lower() in GEOMETRY_NAMES:
            return Column("geom", self.t.c.geom.type)
        if self.allowed is not None and name not in self.allowed:
            assert self.refuse is not None
            raise self.refuse(name)
        self.shape.append(f"@{name}")
        return Column(name, self.t.c[name].type)

    # --- boolean expressions -------------------------------------------------------------------

    def boolean(self, node: Any) -> sa.ColumnElement[bool]:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise InvalidParameter(f"filter has more than {MAX_NODES} terms")
        if isinstance(node, bool):
            self.shape.append(str(node))
            return sa.true() if node else sa.false()
        if not isinstance(node, dict) or "op" not in node:
            raise InvalidParameter(f"filter: expected a condition, got {_show(node)}")
        op = str(node["op"]).lower()
        args = node.get("args", [])
        if not isinstance(args, list):
            raise InvalidParameter(f"filter: the arguments of '{op}' must be a list")
        self.shape.append(f"({op}")
        clause = self._boolean(op, args)
        self.shape.append(")")
        return clause

    def _boolean(self, op: str, args: list[Any]) -> sa.ColumnElement[bool]:
        if op in ("and", "or"):
            parts = [self.boolean(a) for a in args]
            return sa.and_(*parts) if op == "and" else sa.or_(*parts)
        if op == "not":
            _arity(op, args, 1)
            return sa.not_(self.boolean(args[0]))
        if op in _COMPARE:
            _arity(op, args, 2)
            left, right = self.pair(args[0], args[1])
            return getattr(left, _COMPARE[op])(right)
        if op == "like":
            _arity(op, args, 2)
            left, right = self.pair(args[0], args[1], text_only=True)
            return left.like(right)
        if op == "between":
            _arity(op, args, 3)
            low, high = self.pair(args[0], args[1]), self.pair(args[0], args[2])
            return sa.and_(low[0] >= low[1], high[0] <= high[1])
        if op == "in":
            _arity(op, args, 2)
            return self.within_list(args[0], args[1])
        if op == "isnull":
            _arity(op, args, 1)
            col = self.column(args[0])
            if col is None:
                raise InvalidParameter("filter: IS NULL applies to a property")
            return self.t.c[col.name].is_(None)
        if op in SPATIAL or op == "s_dwithin":
            return self.spatial(op, args)
        if op in TEMPORAL:
            _arity(op, args, 2)
            return TEMPORAL[op](*self.instants(args[0]), *self.instants(args[1]))
        raise InvalidParameter(f"filter: '{shown(op)}' is not a supported operator or function")

    # --- scalar operands -----------------------------------------------------------------------

    def pair(
        self, a: Any, b: Any, *, text_only: bool = False
    ) -> tuple[sa.ColumnElement, sa.ColumnElement]:
        """Two operands of a comparison; a literal takes the type of the property beside it."""
        ca, cb = self._peek(a), self._peek(b)
        if "geom" in (getattr(ca, "name", None), getattr(cb, "name", None)):
            raise InvalidParameter("filter: compare geometries with the spatial functions")
        kind = ca.type if ca is not None else cb.type if cb is not None else None
        if text_only and kind is not None and not isinstance(kind, sa.Text | sa.String):
            raise InvalidParameter("filter: LIKE applies to text properties")
        return self.scalar(a, kind), self.scalar(b, kind)

    def _peek(self, node: Any) -> Column | None:
        """The column of a property operand (through casei/accenti), without recording it."""
        while isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti"):
            inner = node.get("args") or [None]
            node = inner[0]
        if (
            isinstance(node, dict)
            and set(node) == {"property"}
            and isinstance(node["property"], str)
        ):
            name = node["property"]
            if name.lower() in GEOMETRY_NAMES:
                return Column("geom", self.t.c.geom.type)
            if (self.allowed is None or name in self.allowed) and name in self.t.c:
                return Column(name, self.t.c[name].type)
        return None

    def scalar(self, node: Any, kind: sa.types.TypeEngine | None) -> sa.ColumnElement:
        col = self.column(node)
        if col is not None:
            if col.name == "geom":
                raise InvalidParameter("filter: compare geometries with the spatial functions")
            return self.t.c[col.name]
        if isinstance(node, dict) and str(node.get("op", "")).lower() in ("casei", "accenti"):
            op = str(node["op"]).lower()
            args = node.get("args") or []
            _arity(op, args, 1)
            self.shape.append(f"{op}(")
            inner = self.scalar(args[0], kind)
            self.shape.append(")")
            if op == "casei":
                return sa.func.lower(inner)
            return sa.func.unaccent(inner)
        return self.literal(node, kind)

    def literal(self, node: Any, kind: sa.types.TypeEngine | None) -> sa.ColumnElement:
        if node is None:
            raise InvalidParameter("filter: compare with null using IS NULL")
        if isinstance(node, dict) and set(node) in ({"date"}, {"timestamp"}):
            return self.bind_instant(node, kind)
        if isinstance(node, dict | list):
            raise InvalidParameter(f"filter: {_show(node)} is not a value here")
        if isinstance(kind, sa.Date | sa.DateTime):
            if not isinstance(node, str):
                raise InvalidParameter(f"filter: {_show(node)} is not a date")
            key = "date" if len(node.strip()) == 10 else "timestamp"
            return self.bind_instant({key: node}, kind)
        if isinstance(kind, sa.Integer):
            if isinstance(node, bool) or not isinstance(node, int | float):
                raise InvalidParameter(f"filter: {_show(node)} is not a number")
            if isinstance(node, float) and not node.is_integer():
                return self.bind(float(node), sa.Double(), "num")  # 2.5 compares as a number
            value = int(node)
            if abs(value) > 2**63 - 1:
                raise InvalidParameter(f"filter: {value} is out of range")
            return self.bind(value, sa.BigInteger(), "int")
        if isinstance(kind, sa.Float | sa.Numeric):
            if (
                isinstance(node, bool)
                or not isinstance(node, int | float)
                or not math.isfinite(node)
            ):
                raise InvalidParameter(f"filter: {_show(node)} is not a number")
            return self.bind(float(node), sa.Double(), "num")
        if isinstance(kind, sa.Boolean):
            if not isinstance(node, bool):
                raise InvalidParameter(f"filter: {_show(node)} is not true or false")
            return self.bind(node, sa.Boolean(), "bool")
        if isinstance(kind, sa.Text | sa.String) and not isinstance(node, str):
            raise InvalidParameter(
                f"filter: {_show(node)} is not text (compare text with 'quoted' values)"
            )
        if isinstance(node, str):
            if "\x00" in node or len(node) > 1000:
                raise InvalidParameter("filter: a text value is too long or not text")
            return self.bind(node, sa.Text(), "text")
        if isinstance(node, bool):
            return self.bind(node, sa.Boolean(), "bool")
        if isinstance(node, int | float) and math.isfinite(node):
            return self.bind(float(node), sa.Double(), "num")
        raise InvalidParameter(f"filter: {_show(node)} is not a value")

    def bind_instant(
        self, node: dict[str, Any], kind: sa.types.TypeEngine | None
    ) -> sa.ColumnElement:
        ((key, text),) = node.items()
        if not isinstance(text, str):
            raise InvalidParameter(f"filter: {_show(node)} is not a {key}")
        if key == "date" and isinstance(kind, sa.Date | None):
            try:
                return self.bind(dt.date.fromisoformat(text.strip()), sa.Date(), "date")
            except ValueError:
                raise InvalidParameter(f"filter: '{shown(text)}' is not a date") from None
        instant = parse_timestamp("filter", text)
        return self.bind(instant, sa.DateTime(timezone=True), "ts")

    def within_list(self, target: Any, items: Any) -> sa.ColumnElement[bool]:
        col = self.column(target)
        if col is None or col.name == "geom":
            raise InvalidParameter("filter: IN applies to a property")
        if not isinstance(items, list) or not items or len(items) > 1000:
            raise InvalidParameter("filter: IN needs a list of 1 to 1,000 values")
        c = self.t.c[col.name]
        kind = col.type
        values = [self._in_value(v, kind) for v in items]
        array_type = postgresql.ARRAY(sa.BigInteger() if isinstance(kind, sa.Integer) else kind)
        return c == sa.any_(self.bind(values, array_type, "list"))

    def _in_value(self, value: Any, kind: sa.types.TypeEngine) -> object:
        probe = _Compiler(self.t, self.allowed, self.crs, self.refuse)
        probe.literal(value, kind)
        return next(iter(probe.values.values()))

    # --- spatial -------------------------------------------------------------------------------

    def spatial(self, op: str, args: list[Any]) -> sa.ColumnElement[bool]:
        if op == "s_dwithin":
            if len(args) not in (3, 4):
                raise InvalidParameter(
                    "filter: S_DWITHIN takes a geometry, a geometry, a distance and units"
                )
            a, b = self.geometry(args[0]), self.geometry(args[1])
            distance = args[2]
            if (
                isinstance(distance, bool)
                or not isinstance(distance, int | float)
                or not (0 <= distance <= 1e7)
            ):
                raise InvalidParameter("filter: S_DWITHIN distance must be 0 to 10,000,000")
            unit = args[3] if len(args) == 4 else "meters"
            if isinstance(unit, dict):
                unit = unit.get("property")
            factor = UNITS_M.get(str(unit).lower())
            if factor is None:
                raise InvalidParameter(
                    f"filter: S_DWITHIN units '{shown(str(unit))}': use meters or kilometers"
                )
            metres = self.bind(float(distance) * factor, sa.Double(), "num")
            return sa.func.ST_DWithin(geography(a), geography(b), metres)
        _arity(op, args, 2)
        return getattr(sa.func, SPATIAL[op])(self.geometry(args[0]), self.geometry(args[1]))

    def geometry(self, node: Any) -> sa.ColumnElement:
        col = self.column(node)
        if col is not None:
            if col.name != "geom":
                raise InvalidParameter(f"filter: '{col.name}' is not a geometry")
            self.shape.append("@geom")
            return self.t.c.geom
        if isinstance(node, dict) and "bbox" in node:
            box = node["bbox"]
            if not (isinstance(box, list) and len(box) in (4, 6)):
                raise InvalidParameter("filter: BBOX needs four numbers")
            x0, y0, x1, y1 = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
            node = shapely.geometry.mapping(shapely.box(x0, y0, x1, y1))
        if not (isinstance(node, dict) and "type" in node):
            raise InvalidParameter(f"filter: {_show(node)} is not a geometry")
        shape = self._shape_of(node)
        text = shapely.to_geojson(shape)
        bound = self.bind(text, sa.Text(), f"geom:{self.crs.srid}")
        return to_storage(sa.func.ST_GeomFromGeoJSON(bound), self.crs)

    def _shape_of(self, node: dict[str, Any]) -> shapely.Geometry:
        shape = literal_shape(node, self.crs)
        self.positions += int(shapely.get_num_coordinates(shape))
        if self.positions > MAX_POSITIONS:
            raise InvalidParameter(f"filter geometries have more than {MAX_POSITIONS:,} positions")
        return shape

    # --- temporal ------------------------------------------------------------------------------

    def instants(self, node: Any) -> tuple[sa.ColumnElement, sa.ColumnElement]:
        """A temporal operand as (start, end): an instant is both ends."""
        col = self.column(node)
        if col is not None:
            if not isinstance(col.type, sa.Date | sa.DateTime):
                raise InvalidParameter(f"filter: '{col.name}' is not a date or time")
            c = self.t.c[col.name]
            as_time = (
                sa.func.timezone("UTC", sa.cast(c, sa.DateTime()))
                if isinstance(col.type, sa.Date)
                else c
            )
            self.shape.append("~")
            return as_time, as_time
        if isinstance(node, dict) and set(node) == {"interval"}:
            ends = node["interval"]
            if not (isinstance(ends, list) and len(ends) == 2):
                raise InvalidParameter("filter: INTERVAL needs a start and an end")
            start, end = (self._end(e, i) for i, e in enumerate(ends))
            return start, end
        if isinstance(node, dict) and set(node) in ({"date"}, {"timestamp"}):
            value = self._instant_value(node)
            b = self.bind(value, sa.DateTime(timezone=True), "ts")
            return b, b
        raise InvalidParameter(f"filter: {_show(node)} is not a date, timestamp or interval")

    def _end(self, end: Any, index: int) -> sa.ColumnElement:
        if end == "..":
            return self.bind(_FAR_TIME[index], sa.DateTime(timezone=True), "ts")
        if isinstance(end, str):
            end = {"date": end} if len(end.strip()) == 10 else {"timestamp": end}
        if isinstance(end, dict) and set(end) in ({"date"}, {"timestamp"}):
            return self.bind(self._instant_value(end), sa.DateTime(timezone=True), "ts")
        col = self.column(end)
        if col is not None and isinstance(col.type, sa.Date | sa.DateTime):
            c = self.t.c[col.name]
            return (
                sa.func.timezone("UTC", sa.cast(c, sa.DateTime()))
                if isinstance(col.type, sa.Date)
                else c
            )
        raise InvalidParameter(f"filter: {_show(end)} is not an interval end")

    @staticmethod
    def _instant_value(node: dict[str, Any]) -> dt.datetime:
        ((key, text),) = node.items()
        if not isinstance(text, str):
            raise InvalidParameter(f"filter: {_show(node)} is not a {key}")
        return parse_timestamp("filter", text)


def _arity(op: str, args: list[Any], n: int) -> None:
    if len(args) != n:
        raise InvalidParameter(f"filter: '{op}' takes {n} argument(s), got {len(args)}")


def _show(node: Any) -> str:
    return shown(json.dumps(node, default=str))
