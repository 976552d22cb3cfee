"""Field types of properties models: each maps to a column, and filters read it back."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from gis.errors import InvalidParameter
from gis.query import coerce
from gis.spec import Count, LayerSpec, Properties, ShortText, property_columns


class Sample(Properties):
    name: ShortText
    seen_at: dt.datetime | None = None
    seen_on: dt.date
    during_clearance: bool = False
    people: Count | None = None


def _spec() -> LayerSpec:
    table = sa.Table("sample", sa.MetaData(), sa.Column("id", sa.BigInteger, primary_key=True),
                     sa.Column("deleted_at", sa.DateTime(timezone=True)),
                     sa.Column("geom", sa.Text), *property_columns(Sample))  # fmt: skip
    return LayerSpec("sample", "Sample", "", "Point", table, Sample, temporal_field="seen_on")


def test_boolean_and_timestamp_fields_get_their_own_column_types() -> None:
    columns = {c.name: c for c in property_columns(Sample) if isinstance(c, sa.Column)}
    assert isinstance(columns["during_clearance"].type, sa.Boolean)
    assert isinstance(columns["seen_at"].type, sa.DateTime) and columns["seen_at"].type.timezone
    assert isinstance(columns["seen_on"].type, sa.Date)
    assert not columns["seen_on"].nullable and columns["seen_at"].nullable
    assert type(columns["people"].type) is sa.Integer


def test_filters_read_booleans_and_timestamps() -> None:
    spec = _spec()
    assert coerce(spec, "during_clearance", "true") is True
    assert coerce(spec, "during_clearance", " No ") is False
    assert coerce(spec, "seen_at", "2024-05-01T10:00:00+04:00") == dt.datetime(
        2024, 5, 1, 6, tzinfo=dt.UTC
    )
    with pytest.raises(InvalidParameter, match="during_clearance: 'maybe' is not true or false"):
        coerce(spec, "during_clearance", "maybe")
    with pytest.raises(InvalidParameter, match="seen_at: 'noon' is not an RFC 3339 date-time"):
        coerce(spec, "seen_at", "noon")


def test_a_spec_declares_its_temporal_index_on_its_table() -> None:
    assert "sample_seen_on_id" in {i.name for i in _spec().table.indexes}
