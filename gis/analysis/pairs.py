"""Target × hazard pairs within reach, with their geodesic distances, kept as fresh as the layers.

Coverage asks, for every village, how many active hazard areas lie within `risk_within_m` and how
far the nearest is. Measuring ~128,000 pairs per question cannot be done in 300 ms with a distance
that is right for every shape, so the pairs within `REACH_M` are measured once (by
`gis.analysis.geodesic`, whose error bound is proven there) and stored in `analysis_pairs`.
Status, deletion and the time rule are applied when a question is asked, by joining the live
hazard rows; the table holds geometry-derived figures only.

Freshness: every stored row version of both layers is remembered by its (xmin, ctid) stamp, which
changes with every INSERT, UPDATE (soft delete and restore included), COPY and upsert, whatever
code path did it. Before each question, `refresh` finds the rows whose stamp changed (an anti-join
over both layers, a few milliseconds) and re-measures their pairs in the asking transaction, so an
answer always agrees with the layers as that transaction sees them — the same transaction as a
write, if the writer asks. A pair table refreshed in a transaction that rolls back is simply
refreshed again by the next question.
"""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.types import UserDefinedType

from gis.analysis.geodesic import measure
from gis.analysis.sql import quote
from gis.spec import LayerSpec, metadata


class XID(UserDefinedType[str]):
    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid"


class TID(UserDefinedType[str]):
    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "tid"


REACH_M = 5000.0  # pairs measured ahead; larger risk distances are measured per question
M_MIN = 6335439.327  # the least meridional radius of curvature of WGS 84, metres

pairs_table = sa.Table(
    "analysis_pairs",
    metadata,
    sa.Column("pairing", sa.Text, primary_key=True),
    sa.Column("target_id", sa.BigInteger, primary_key=True),
    sa.Column("hazard_id", sa.BigInteger, primary_key=True),
    sa.Column("distance_m", sa.Double, nullable=False),
    sa.Column("lower_m", sa.Double, nullable=False),
    sa.Index("analysis_pairs_hazard", "pairing", "hazard_id"),
)

versions_table = sa.Table(
    "analysis_pair_versions",
    metadata,
    sa.Column("pairing", sa.Text, primary_key=True),
    sa.Column("side", sa.Text, primary_key=True),
    sa.Column("feature_id", sa.BigInteger, primary_key=True),
    sa.Column("row_xmin", XID, nullable=False),
    sa.Column("row_ctid", TID, nullable=False),
)

# A lower bound of metres per degree along any geodesic of length <= :reach from t (proof):
# latitude changes by at most reach / M_MIN radians along it (dphi/ds <= 1/M), so the radius of
# every parallel it meets is at least a cos(|lat_t| + reach / M_MIN), and every meridional radius
# at least M_MIN; the geodesic's length is at least min(those) times the lon/lat distance of its
# ends in radians. Hence a geometry with a point within :reach metres of t lies within
# :reach / K_LOW degrees of t in the plane of lon/lat (where the edges are straight): ST_DWithin
# in degrees never leaves out a pair within reach.
K_LOW = (
    f"(pi() / 180 * least({M_MIN}, 6378137.0 * cos(least(radians(89.9), "
    f"radians(abs(ST_Y(t.geom))) + :reach / {M_MIN}))))"
)

CANDIDATES_SQL = """
SELECT t.id AS target_id, ST_X(t.geom) AS lon, ST_Y(t.geom) AS lat, h.id AS hazard_id
FROM {target} t
JOIN {hazard} h
  ON ST_DWithin(h.geom, t.geom, :reach / {k_low})
WHERE (:all_rows OR h.id = ANY(:hazard_ids) OR t.id = ANY(:target_ids))
"""

# The rows of one layer whose stamp differs from the one remembered, and remembered rows that are
# gone (a hard DELETE or TRUNCATE): as (side, id).
STALE_SQL = """
SELECT :side AS side, coalesce(x.id, v.feature_id) AS id
FROM (SELECT id, xmin AS row_xmin, ctid AS row_ctid FROM {table}) x
FULL JOIN (SELECT * FROM analysis_pair_versions WHERE pairing = :pairing AND side = :side) v
  ON v.feature_id = x.id AND v.row_xmin = x.row_xmin AND v.row_ctid = x.row_ctid
WHERE v.feature_id IS NULL OR x.id IS NULL
"""

STAMP_SQL = """
INSERT INTO analysis_pair_versions (pairing, side, feature_id, row_xmin, row_ctid)
SELECT :pairing, :side, x.id, x.xmin, x.ctid
FROM {table} x
WHERE x.id = ANY(:ids)
"""


def pairing(hazard: LayerSpec, target: LayerSpec) -> str:
    return f"{hazard.name}:{target.name}"


def _stale(
    conn: sa.Connection, hazard: LayerSpec, target: LayerSpec
) -> tuple[list[int], list[int]]:
    """(hazard ids, target ids) whose pairs must be measured again, in one statement."""
    key = pairing(hazard, target)
    statement = " UNION ALL ".join(
        STALE_SQL.replace(":side", f"'{side}'").format(table=quote(spec.table.name))
        for side, spec in (("hazard", hazard), ("target", target))
    )
    found: dict[str, list[int]] = {"hazard": [], "target": []}
    for side, feature_id in conn.execute(sa.text(statement), {"pairing": key}):
        found[side].append(int(feature_id))
    # A changed row appears twice (its new stamp, and the remembered old one).
    return sorted(set(found["hazard"])), sorted(set(found["target"]))


def refresh(conn: sa.Connection, hazard: LayerSpec, target: LayerSpec) -> int:
    """Bring the stored pairs of (hazard, target) up to date in this transaction; how many rows
    of the two layers had changed."""
    key = pairing(hazard, target)
    hazards, targets = _stale(conn, hazard, target)
    if not hazards and not targets:
        return 0
    # One refresher at a time per pairing; the others wait, then find little or nothing stale.
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    hazards, targets = _stale(conn, hazard, target)
    if not hazards and not targets:
        return 0
    p = pairs_table
    conn.execute(
        sa.delete(p).where(
            p.c.pairing == key, sa.or_(p.c.hazard_id.in_(hazards), p.c.target_id.in_(targets))
        )
    )
    first = not conn.execute(
        sa.select(sa.literal(1)).where(versions_table.c.pairing == key).limit(1)
    ).first()
    rows = measured_pairs(conn, hazard, target, REACH_M, hazards, targets, all_rows=first)
    _copy(conn, key, rows)
    for side, spec, ids in (("hazard", hazard, hazards), ("target", target, targets)):
        conn.execute(
            sa.delete(versions_table).where(
                versions_table.c.pairing == key,
                versions_table.c.side == side,
                versions_table.c.feature_id.in_(ids),
            )
        )
        conn.execute(
            sa.text(STAMP_SQL.format(table=quote(spec.table.name))),
            {"pairing": key, "side": side, "ids": ids},
        )
    if first or len(rows) > 10_000:  # the planner must know the table's new size at once
        conn.exec_driver_sql("ANALYZE analysis_pairs, analysis_pair_versions")
    return len(hazards) + len(targets)


def measured_pairs(
    conn: sa.Connection,
    hazard: LayerSpec,
    target: LayerSpec,
    reach_m: float,
    hazard_ids: list[int] | None = None,
    target_ids: list[int] | None = None,
    *,
    all_rows: bool = False,
) -> list[tuple[int, int, float, float]]:
    """(target_id, hazard_id, distance_m, lower_m) of every pair within `reach_m` that involves one
    of the given rows (or every row), deleted and inactive rows included."""
    sql = CANDIDATES_SQL.format(
        target=quote(target.table.name), hazard=quote(hazard.table.name), k_low=K_LOW
    )
    found = conn.execute(
        sa.text(sql),
        {
            "reach": reach_m,
            "all_rows": all_rows,
            "hazard_ids": hazard_ids or [],
            "target_ids": target_ids or [],
        },
    ).all()
    if not found:
        return []
    target_id = np.array([r.target_id for r in found], dtype=np.int64)
    hazard_id = np.array([r.hazard_id for r in found], dtype=np.int64)
    points = np.array([(r.lon, r.lat) for r in found], dtype=float)
    wanted, pair_geometry = np.unique(hazard_id, return_inverse=True)
    h = hazard.table
    wkb = dict(
        conn.execute(
            sa.select(h.c.id, sa.func.ST_AsBinary(h.c.geom)).where(h.c.id.in_(wanted.tolist()))
        ).all()
    )
    geometries = list(shapely.from_wkb([wkb[int(i)] for i in wanted]))
    result = measure(points, geometries, np.arange(len(found)), pair_geometry)
    keep = result.distance_m <= reach_m
    return list(
        zip(
            target_id[keep].tolist(),
            hazard_id[keep].tolist(),
            result.distance_m[keep].tolist(),
            result.lower_m[keep].tolist(),
            strict=True,
        )
    )


def _copy(conn: sa.Connection, key: str, rows: list[tuple[int, int, float, float]]) -> None:
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    columns = "pairing, target_id, hazard_id, distance_m, lower_m"
    with cursor.copy(f"COPY analysis_pairs ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((key, *row))


def temporary_pairs(
    conn: sa.Connection, hazard: LayerSpec, target: LayerSpec, reach_m: float
) -> str:
    """For a risk distance beyond REACH_M: the pairs within `reach_m`, measured now into a
    temporary table (its name is returned); slower, equally right."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS _safeground_pairs")
    conn.exec_driver_sql(
        "CREATE TEMP TABLE _safeground_pairs (pairing text, target_id bigint, hazard_id bigint, "
        "distance_m float8, lower_m float8) ON COMMIT DROP"
    )
    rows = measured_pairs(conn, hazard, target, reach_m, all_rows=True)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
        "COPY _safeground_pairs (pairing, target_id, hazard_id, distance_m, lower_m) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row((pairing(hazard, target), *row))
    conn.exec_driver_sql("ANALYZE _safeground_pairs")
    return "_safeground_pairs"
