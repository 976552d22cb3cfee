"""What a layer spec is: the frozen declaration every layer module in `layers/` makes.

The engine (`gis/`) works only through these specs, so adding a layer is one module plus one
migration. This module also holds the building blocks the specs share: roles, the common
columns, and field types for properties models.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from geoalchemy2 import Geography, Geometry
from pydantic import AfterValidator, BaseModel, Field

GeometryType = Literal["Point", "MultiPolygon"]


class Role(enum.IntEnum):
    """Who may read what; each role sees everything the roles below it see."""

    public = 0
    partner = 1
    staff = 2
    editor = 3
    admin = 4


# --- field types shared by properties models -------------------------------------------------


_TODAY_AT_START = dt.date.today()  # today only moves forward: dates up to it need no clock call


def _not_in_future(value: dt.date) -> dt.date:
    if value > _TODAY_AT_START and value > dt.date.today():
        raise ValueError(f"date {value.isoformat()} is in the future")
    return value


PastDate = Annotated[dt.date, AfterValidator(_not_in_future)]
Count = Annotated[int, Field(ge=0, le=100_000_000)]
ShortText = Annotated[str, Field(max_length=300)]
LongText = Annotated[str, Field(max_length=5000)]


class Properties(BaseModel):
    """Base of every layer's properties model: unknown fields are reported, not stored."""

    model_config = {"extra": "forbid", "str_strip_whitespace": True}


# --- map style ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How a layer is drawn: colour by a property's value, or one colour."""

    color: str = "#3388ff"
    color_by: str | None = None
    colors: Mapping[str, str] = field(default_factory=dict)
    icon: str = "circle"
    labels: Mapping[str, str] = field(default_factory=dict)  # value -> legend label
    fill_opacity: float = 0.35

    def color_for(self, value: object) -> str:
        return self.colors.get(str(value), self.color) if self.color_by else self.color


# --- the spec ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerSpec:
    name: str
    title: str
    description: str
    geometry_type: GeometryType
    table: sa.Table
    properties: type[Properties]
    temporal_field: str | None = None
    read_role: Role = Role.public
    # Fields a caller below the given role never sees, in any output, filter or schema.
    restricted_fields: Mapping[str, Role] = field(default_factory=dict)
    # Columns the database computes (e.g. area_m2): output only, never imported.
    computed_fields: tuple[str, ...] = ()
    queryable_fields: tuple[str, ...] = ()
    popup_fields: tuple[str, ...] = ()
    tooltip_field: str | None = None
    style: Style = field(default_factory=Style)
    hxl: Mapping[str, str] = field(default_factory=dict)
    attribution: str = ""
    license: str = ""
    reference: bool = False  # reference data (villages, districts) rather than activity records
    # Analyses (coverage, route checks, exposure) read these; they never change what is stored.
    # Which features are still dangerous, as column -> values (e.g. status: suspected, confirmed);
    # empty means every live feature counts.
    active_filter: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The date the current status took effect (hazards: status_changed_on), if the layer has one:
    # an analysis as of an earlier day does not yet apply that status.
    status_changed_field: str | None = None
    # The column holding how many people a feature stands for (a village's population), if any.
    population_field: str | None = None
    # Columns that name a feature, most readable first, so `?district=Agdam` can find it.
    name_fields: tuple[str, ...] = ()
    # The column holding a feature's unique short code (a district's AZ.AM), shown beside its name
    # wherever the name alone could be ambiguous; an area layer must declare it.
    code_field: str | None = None
    # A warning every page and map of the layer shows, e.g. that no hazard shown does not mean safe.
    notice: str = ""
    # Where the layer comes in the registry (/collections, maps' legends): lower first.
    order: int = 100
    # Other spellings of enumerated values that imports accept, as field -> {synonym: value}
    # (e.g. status: {"CHA": "confirmed"}); matched ignoring case, spaces, punctuation, diacritics.
    synonyms: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        derived_indexes(self)
        _DECLARED.setdefault(self.name, self)

    @property
    def property_names(self) -> tuple[str, ...]:
        """Importable properties, in declaration order."""
        return tuple(self.properties.model_fields)

    @property
    def output_fields(self) -> tuple[str, ...]:
        return (*self.property_names, *self.computed_fields)

    def visible_fields(self, role: Role) -> tuple[str, ...]:
        return tuple(
            f for f in self.output_fields if self.restricted_fields.get(f, Role.public) <= role
        )

    def readable_by(self, role: Role) -> bool:
        return role >= self.read_role

    @property
    def geometry_column(self) -> sa.Column:
        return self.table.c.geom


# Every spec declared in this process, by name (the first wins): a write path that holds one layer
# finds the other layer of a pairing it must refresh (gis/analysis/pairs.py) without the registry.
_DECLARED: dict[str, LayerSpec] = {}


def declared_spec(name: str) -> LayerSpec | None:
    return _DECLARED.get(name)


class Registry(Mapping[str, LayerSpec]):
    """The layers, by name, in a stable order."""

    def __init__(self, specs: Iterable[LayerSpec]) -> None:
        self._specs = {s.name: s for s in specs}

    def __getitem__(self, name: str) -> LayerSpec:
        return self._specs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def readable(self, role: Role) -> list[LayerSpec]:
        return [s for s in self._specs.values() if s.readable_by(role)]


# --- tables ------------------------------------------------------------------------------------

metadata = sa.MetaData()


def enum_check(column: str, values: Iterable[str]) -> sa.CheckConstraint:
    """A CHECK that keeps a text column inside an enum's values (named for readable errors)."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=f"{column}_allowed")


def non_negative(*columns: str) -> list[sa.CheckConstraint]:
    return [sa.CheckConstraint(f"{c} >= 0", name=f"{c}_non_negative") for c in columns]


def geometry_checks() -> list[sa.CheckConstraint]:
    """Valid, non-empty geometry, with lon/lat in range (SRID 4326 is in the column type)."""
    return [
        sa.CheckConstraint("ST_IsValid(geom) AND NOT ST_IsEmpty(geom)", name="geom_valid"),
        sa.CheckConstraint(
            "ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180 "
            "AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90",
            name="geom_in_range",
        ),
    ]


def common_columns(geometry_type: GeometryType) -> list[sa.Column | sa.Constraint]:
    """The columns every layer table has, besides its properties."""
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("external_id", sa.Text, nullable=False, unique=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("geom", Geometry(geometry_type, srid=4326, spatial_index=False), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("import_batch_id", sa.BigInteger, sa.ForeignKey("import_batches.id")),
        *geometry_checks(),
    ]


def property_columns(model: type[Properties]) -> list[sa.Column | sa.Constraint]:
    """The table columns a properties model implies, so a layer declares each property once.

    str → text, date → date, datetime → timestamptz, bool → boolean, bounded int (Count) →
    integer, plain int → bigint, float → double; an enum adds a CHECK on its values, `ge=0` a
    non-negative CHECK, a required field NOT NULL.
    """
    out: list[sa.Column | sa.Constraint] = []
    for name, info in model.model_fields.items():
        base, metadata_items = _unwrap(info.annotation)
        metadata_items += list(info.metadata)
        bounded = any(getattr(m, "le", None) is not None for m in metadata_items)
        if isinstance(base, type) and issubclass(base, enum.Enum):
            column_type: sa.types.TypeEngine = sa.Text()
            out.append(enum_check(name, [e.value for e in base]))
        elif base is str:
            column_type = sa.Text()
        elif base is dt.date:
            column_type = sa.Date()
        elif base is dt.datetime:
            column_type = sa.DateTime(timezone=True)
        elif base is bool:
            column_type = sa.Boolean()
        elif base is int:
            column_type = sa.Integer() if bounded else sa.BigInteger()
        elif base is float:
            column_type = sa.Double()
        else:
            raise TypeError(f"{model.__name__}.{name}: no column type for {base!r}")
        if any(getattr(m, "ge", None) == 0 for m in metadata_items):
            out += non_negative(name)
        out.append(sa.Column(name, column_type, nullable=not info.is_required()))
    return out


def field_base_type(model: type[BaseModel], name: str) -> object:
    """The plain type of a properties field: `Annotated[int, Field(ge=0)] | None` → int."""
    return _unwrap(model.model_fields[name].annotation)[0]


def _unwrap(annotation: object) -> tuple[object, list[object]]:
    """`Annotated[int, Field(ge=0)] | None` → (int, [the Field's constraints])."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _unwrap(args[0])
    if typing.get_origin(annotation) is Annotated:
        base, *extra = typing.get_args(annotation)
        inner, found = _unwrap(base)
        for item in extra:
            found += list(getattr(item, "metadata", [item]))
        return inner, found
    return annotation, []


def layer_table(
    name: str,
    geometry_type: GeometryType,
    properties: type[Properties],
    *extra: sa.Column | sa.Constraint,
) -> sa.Table:
    """A layer's table: the common columns, one per property, any extra (computed columns,
    cross-field checks), and GiST indexes on the geometry and on its geography cast."""
    table = sa.Table(
        name, metadata, *common_columns(geometry_type), *property_columns(properties), *extra
    )
    sa.Index(f"{name}_geom_gist", table.c.geom, postgresql_using="gist")
    sa.Index(f"{name}_geog_gist", geography(table.c.geom), postgresql_using="gist")
    sa.Index(f"{name}_updated_at", table.c.updated_at)
    return table


def derived_indexes(spec: LayerSpec) -> None:
    """The indexes a spec implies beyond its table's own, added to the table once (the migrations
    create the same ones; a test compares the two):

    - (temporal field, id): `datetime=` filters and keyset pages by date read in order;
    - GiST on the live features its `active_filter` keeps: analyses never visit the rest;
    - on an activity point layer, GiST on the live points carrying the date and the point, so
      coverage reads them with an index-only scan (a polygon would not fit in an index entry).
    """
    t, name = spec.table, spec.name
    existing = {index.name for index in t.indexes}

    def add(index_name: str, *args: sa.ColumnElement | str, **kwargs: Any) -> None:
        if index_name not in existing:
            sa.Index(index_name, *args, **kwargs)

    live = t.c.deleted_at.is_(None)
    if spec.temporal_field:
        add(f"{name}_{spec.temporal_field}_id", t.c[spec.temporal_field], t.c.id)
    if spec.active_filter:
        active = [t.c[column].in_(values) for column, values in spec.active_filter.items()]
        add(
            f"{name}_geom_gist_active",
            t.c.geom,
            postgresql_using="gist",
            postgresql_where=sa.and_(live, *active),
        )
    if spec.geometry_type == "Point" and spec.temporal_field and not spec.reference:
        add(
            f"{name}_geom_gist_live",
            t.c.geom,
            postgresql_using="gist",
            postgresql_include=[spec.temporal_field, "geom"],
            postgresql_where=live,
        )


import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("layer", sa.Text, nullable=False),
    sa.Column("filename", sa.Text),
    sa.Column("actor", sa.Text),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("inserted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
)


def geography(column: sa.ColumnElement) -> sa.ColumnElement:
    """`column::geography`, spelled so it matches the GiST index on that expression."""
    return sa.func.geography(column, type_=Geography)
