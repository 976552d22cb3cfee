"""The GDAL files (FlatGeobuf, GeoPackage) carry every value as the database holds it: NULL in
every column and every position, each column type, an all-NULL feature, and only visible fields."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import sqlalchemy as sa

from gis.export import export
from gis.query import ItemsQuery, Paging
from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_fixture  # noqa: F401

# Together: text, integer, bigint-free counts, boolean, date, double precision, and (sync) the
# timestamps with time zone.
LAYERS = ("accidents", "hazard_areas", "outreach_sessions", "villages")
SINCE = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)


def _plain(value: object) -> object:
    """One cell, read from either side, as a comparable plain value (NULL as None)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # a date read back as a midnight datetime
            return value.date() if value.time() == dt.time() else value
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _same(stored: object, read: object) -> bool:
    if isinstance(stored, dt.datetime) and isinstance(read, dt.datetime):
        return abs(stored - read) < dt.timedelta(milliseconds=1)  # GDAL keeps milliseconds
    return stored == read


@pytest.mark.parametrize("fmt", ["fgb", "gpkg"])
@pytest.mark.parametrize("layer", LAYERS)
def test_files_round_trip_nulls_in_every_column_and_position(
    demo: Demo, layer: str, fmt: str, tmp_path: Path
) -> None:
    spec = REGISTRY[layer]
    t = spec.table
    fields = spec.visible_fields(Role.admin)
    nullable = [f for f in fields if t.c[f].nullable and t.c[f].computed is None]
    assert nullable, layer
    sync = ("updated_at", "deleted_at")
    with demo.engine.connect() as conn, conn.begin() as transaction:
        live = t.c.deleted_at.is_(None)
        ids = list(conn.execute(sa.select(t.c.id).where(live).order_by(t.c.id).limit(
            len(nullable) + 2)).scalars())  # fmt: skip
        # Row k has field k NULL (and the others as they are); the next row has every nullable
        # field NULL; the last is left whole, after a row with nothing in it.
        for row_id, name in zip(ids, nullable):
            conn.execute(sa.update(t).where(t.c.id == row_id).values({name: None}))
        all_null = {name: None for name in nullable}
        conn.execute(sa.update(t).where(t.c.id == ids[len(nullable)]).values(all_null))
        q = ItemsQuery(
            spec=spec, fields=fields, page=Paging(1, explicit=False), updated_since=SINCE
        )
        path = tmp_path / f"{layer}.{fmt}"
        path.write_bytes(b"".join(export(conn, q, fmt)))
        columns = [t.c.external_id, *(t.c[f] for f in fields), t.c.source, *(t.c[c] for c in sync)]
        expected = {
            row.external_id: row._mapping
            for row in conn.execute(sa.select(*columns).where(t.c.id.in_(ids), live))
        }
        total = conn.execute(sa.select(sa.func.count()).where(live)).scalar_one()
        transaction.rollback()
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == total
    assert set(frame.columns) == {c.name for c in columns} | {"geometry"}
    got = frame.set_index("external_id").loc[list(expected)]
    mismatches = [
        (key, name, _plain(row[name]), _plain(got.loc[key, name]))
        for key, row in expected.items()
        for name in row
        if name != "external_id" and not _same(_plain(row[name]), _plain(got.loc[key, name]))
    ]
    assert mismatches == []
    assert got.loc[list(expected)[len(nullable)], nullable].isna().all()


@pytest.mark.parametrize("fmt", ["fgb", "gpkg"])
def test_files_hold_only_the_fields_the_role_sees(demo: Demo, fmt: str, tmp_path: Path) -> None:
    spec = REGISTRY["hazard_areas"]
    partner, staff = spec.visible_fields(Role.partner), spec.visible_fields(Role.staff)
    hidden = set(staff) - set(partner)
    assert hidden  # the layer has staff-only fields
    q = ItemsQuery(spec=spec, fields=partner, page=Paging(1, explicit=False))
    with demo.engine.begin() as conn:
        path = tmp_path / f"partner.{fmt}"
        path.write_bytes(b"".join(export(conn, q, fmt)))
    columns = set(pyogrio.read_info(path)["fields"])
    assert columns == {"external_id", "source", *partner} and not columns & hidden
