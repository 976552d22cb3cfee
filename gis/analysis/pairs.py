"""Target × hazard pairs within reach, with their geodesic distances, kept as fresh as the layers.

Coverage asks, for every village, how many active hazard areas lie within `risk_within_m` and how
far the nearest is. Measuring ~128,000 pairs per question cannot be done in 300 ms with a distance
that is right for every shape, so the pairs within `REACH_M` are measured once (by
`gis.analysis.geodesic`, whose error bound is proven there) and stored in `analysis_pairs`.
Status, deletion and the time rule are applied when a question is asked, by joining the live
hazard rows; the table holds geometry-derived figures only.

Freshness: every stored row version of both layers is remembered by its (xmin, ctid) stamp, which
changes with every INSERT, UPDATE (soft delete and restore included), COPY and upsert, whatever
code path did it. `refresh` finds the rows whose stamp changed (an anti-join over both layers, a
few milliseconds) and re-measures their pairs, and recounts the per-target figures they touch,
in the caller's transaction. A refresh in a transaction that rolls back leaves the stamps stale,
and is done again by the next.

Write time: every write path of the layers (import and upsert, POST/PUT/DELETE of items, restore
of tombstones, the demo load) calls `after_write` in its own transaction, which refreshes the
pairings declared in `analysis_pairings` that involve the layer written, so a read never has to
write. A write that bypasses the app (plain SQL) leaves stamps stale; a read then measures those
pairs on the fly, read-only (gis/analysis/pairs_now.py). A pairing is declared by its first
refresh (`safeground demo load` does it for the configured hazards and places); until then every
read measures it whole.
"""

from __future__ import annotations

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import UserDefinedType

from gis import layer_versions
from gis.analysis.common import active_sql
from gis.analysis.geodesic import measure
from gis.analysis.sql import quote
from gis.spec import LayerSpec, declared_spec, metadata


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

pairings_table = sa.Table(
    "analysis_pairings",
    metadata,
    sa.Column("pairing", sa.Text, primary_key=True),
    sa.Column("hazard_layer", sa.Text, nullable=False),
    sa.Column("target_layer", sa.Text, nullable=False),
    # The layers' change counters (layer_versions, bumped by a trigger on every write statement)
    # as the last refresh saw them before its stale check; -1: never recorded. See `unchanged`.
    sa.Column("hazard_version", sa.BigInteger, nullable=False, server_default="-1"),
    sa.Column("target_version", sa.BigInteger, nullable=False, server_default="-1"),
)

# Per target with a live hazard within REACH_M: the active ones now and the nearest, and the last
# day any of them was recorded or changed status. As of that day or later the time rule gives the
# current statuses, so a question for the whole reach reads these instead of counting pairs.
figures_table = sa.Table(
    "analysis_target_figures",
    metadata,
    sa.Column("pairing", sa.Text, primary_key=True),
    sa.Column("target_id", sa.BigInteger, primary_key=True),
    sa.Column("hazards_within", sa.Integer, nullable=False),
    sa.Column("nearest_m", sa.Double, nullable=True),
    sa.Column("settled_on", sa.Date, nullable=True),
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


def stale(conn: sa.Connection, hazard: LayerSpec, target: LayerSpec) -> tuple[list[int], list[int]]:
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


# Why `unchanged` is exact: layer_versions moves in the writing transaction of every statement
# that writes a layer table (INSERT, UPDATE, DELETE, COPY, TRUNCATE; migration 0009), so a
# snapshot sees a counter move exactly when it sees the write, and a rolled-back write moves
# nothing. `refresh` reads the counters BEFORE its stale check, so what it records never covers
# a write its check could not see (a write committed between the two reads leaves the counter
# above the record). Equal counters therefore mean: no row version has changed since a complete
# refresh, and every stored stamp holds. Writes with triggers disabled (session_replication_role
# = replica, pg_restore --disable-triggers) are not seen; restore a dump, then run
# `safeground demo load` or any app write, or empty analysis_pairings to measure anew.
def _counters(conn: sa.Connection, hazard: LayerSpec, target: LayerSpec) -> tuple[int, int]:
    found = layer_versions.counters(conn, (hazard.table.name, target.table.name))
    return found[str(hazard.table.name)], found[str(target.table.name)]


def unchanged(conn: sa.Connection, hazard: LayerSpec, target: LayerSpec) -> bool:
    """True when neither layer has been written since the pairing's last complete refresh, so
    nothing is stale and the stale check (an anti-join over both layers) can be skipped. The
    record is read first: counters only grow, so equal counters read after it mean no write
    came between."""
    record = conn.execute(
        sa.select(pairings_table.c.hazard_version, pairings_table.c.target_version).where(
            pairings_table.c.pairing == pairing(hazard, target)
        )
    ).first()
    return record is not None and tuple(record) == _counters(conn, hazard, target)


def _remember(conn: sa.Connection, key: str, counters: tuple[int, int]) -> None:
    p = pairings_table
    conn.execute(
        sa.update(p)
        .where(
            p.c.pairing == key,
            sa.tuple_(p.c.hazard_version, p.c.target_version) != sa.tuple_(*counters),
        )
        .values(hazard_version=counters[0], target_version=counters[1])
    )


def refresh(conn: sa.Connection, hazard: LayerSpec, target: LayerSpec) -> int:
    """Bring the stored pairs and figures of (hazard, target) up to date in this transaction, and
    declare the pairing so that every later write keeps it; how many rows of the two layers had
    changed. A write path calls it (through `after_write`); a read never needs to."""
    key = pairing(hazard, target)
    counters = _counters(conn, hazard, target)  # before the check: see above
    hazards, targets = stale(conn, hazard, target)
    if not hazards and not targets:
        _remember(conn, key, counters)
        return 0
    # One refresher at a time per pairing; the others wait, then find little or nothing stale.
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    counters = _counters(conn, hazard, target)
    hazards, targets = stale(conn, hazard, target)
    if not hazards and not targets:
        _remember(conn, key, counters)
        return 0
    _declare(conn, hazard, target)
    p = pairs_table
    touched = set(targets)
    touched.update(
        conn.execute(
            sa.delete(p)
            .where(
                p.c.pairing == key,
                sa.or_(p.c.hazard_id.in_(hazards), p.c.target_id.in_(targets)),
            )
            .returning(p.c.target_id)
        ).scalars()
    )
    first = not conn.execute(
        sa.select(sa.literal(1)).where(versions_table.c.pairing == key).limit(1)
    ).first()
    rows = measured_pairs(conn, hazard, target, REACH_M, hazards, targets, all_rows=first)
    _copy(conn, key, rows)
    touched.update(r[0] for r in rows)
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
    _figures(conn, hazard, key, None if first else sorted(touched))
    _remember(conn, key, counters)
    if first or len(rows) > 10_000:  # the planner must know the tables' new size at once
        conn.exec_driver_sql(
            "ANALYZE analysis_pairs, analysis_pair_versions, analysis_target_figures"
        )
    return len(hazards) + len(targets)


def _declare(conn: sa.Connection, hazard: LayerSpec, target: LayerSpec) -> None:
    statement = postgresql.insert(pairings_table).values(
        pairing=pairing(hazard, target), hazard_layer=hazard.name, target_layer=target.name
    )
    conn.execute(statement.on_conflict_do_nothing())


def declare(conn: sa.Connection, hazard: LayerSpec, target: LayerSpec) -> int:
    """Declare the pairing (every later write keeps it fresh) and measure it; see `refresh`."""
    _declare(conn, hazard, target)
    return refresh(conn, hazard, target)


def after_write(conn: sa.Connection, spec: LayerSpec) -> int:
    """The hook of every write path: refresh, in the writer's transaction, each declared pairing
    that involves `spec`'s layer; how many changed rows were measured."""
    declared = conn.execute(
        sa.select(pairings_table.c.hazard_layer, pairings_table.c.target_layer).where(
            sa.or_(
                pairings_table.c.hazard_layer == spec.name,
                pairings_table.c.target_layer == spec.name,
            )
        )
    ).all()
    changed = 0
    for hazard_name, target_name in declared:
        hazard, target = declared_spec(hazard_name), declared_spec(target_name)
        if hazard is not None and target is not None:  # a layer no longer declared is not read
            changed += refresh(conn, hazard, target)
    return changed


def settled_sql(alias: str, spec: LayerSpec) -> str:
    """The last day a hazard row's activity may differ from now under the time rule: when it was
    recorded or its status took effect (whichever is later; NULL if it has neither)."""
    days = []
    if spec.temporal_field:
        days.append(f"CAST({alias}.{quote(spec.temporal_field)} AS date)")
    if spec.status_changed_field and spec.active_filter:
        days.append(f"CAST({alias}.{quote(spec.status_changed_field)} AS date)")
    return f"greatest({', '.join(days)})" if days else "CAST(NULL AS date)"


FIGURES_SQL = """
INSERT INTO analysis_target_figures (pairing, target_id, hazards_within, nearest_m, settled_on)
SELECT :pairing, p.target_id, count(*) FILTER (WHERE {active}),
       min(p.distance_m) FILTER (WHERE {active}), max({settled})
FROM analysis_pairs p
JOIN {hazard} h ON h.id = p.hazard_id
WHERE p.pairing = :pairing AND h.deleted_at IS NULL AND (:all_rows OR p.target_id = ANY(:ids))
GROUP BY p.target_id
"""


def _figures(conn: sa.Connection, hazard: LayerSpec, key: str, ids: list[int] | None) -> None:
    """Recount the figures of the given targets (all of them for None) from the stored pairs."""
    f = figures_table
    where = [f.c.pairing == key] + ([f.c.target_id.in_(ids)] if ids is not None else [])
    conn.execute(sa.delete(f).where(*where))
    params: dict[str, object] = {"pairing": key, "all_rows": ids is None, "ids": ids or []}
    active = active_sql("h", hazard, params)  # current statuses: see figures_table
    statement = FIGURES_SQL.format(
        active=active, settled=settled_sql("h", hazard), hazard=quote(hazard.table.name)
    )
    conn.execute(sa.text(statement), params)


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
