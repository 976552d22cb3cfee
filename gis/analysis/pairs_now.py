"""The measured pairs as a question must count them, found without writing anything.

Write paths keep `analysis_pairs` and `analysis_target_figures` fresh (gis/analysis/pairs.py).
A write that bypassed them (plain SQL) leaves row stamps stale: the pairs of those rows are then
measured here, in memory, and handed to the statement as bound arrays, which count instead of the
stored ones — so a read stays right, and works in a READ ONLY transaction or on a replica. A
pairing never measured, or a risk distance beyond the stored reach, is measured whole this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from gis.analysis import pairs
from gis.spec import LayerSpec

# The stored pairs of the fresh rows, and the pairs measured for this question, as one relation
# (target_id, hazard_id, distance_m). {pairs} is the stored table; {pairs_needed} an optional
# further condition on the stored rows (coverage's stored figures). Values come from `params`.
PAIRS_NOW_SQL = """
SELECT p.target_id, p.hazard_id, p.distance_m
FROM {pairs} p
WHERE :stored AND p.pairing = :pairing {pairs_needed}
  AND p.hazard_id <> ALL(CAST(:stale_hazards AS bigint[]))
  AND p.target_id <> ALL(CAST(:stale_targets AS bigint[]))
UNION ALL
SELECT m.target_id, m.hazard_id, m.distance_m
FROM unnest(CAST(:fresh_targets AS bigint[]), CAST(:fresh_hazards AS bigint[]),
            CAST(:fresh_m AS float8[])) AS m(target_id, hazard_id, distance_m)
"""


@dataclass(frozen=True)
class PairsNow:
    """What to count: the stored pairs (if `stored`) except those of the stale rows, plus the
    pairs measured now; `redo_targets` are the targets whose stored figures do not hold."""

    stored: bool
    stale_hazards: list[int] = field(default_factory=list)
    stale_targets: list[int] = field(default_factory=list)
    redo_targets: list[int] = field(default_factory=list)
    measured: list[tuple[int, int, float, float]] = field(default_factory=list)

    def params(self) -> dict[str, object]:
        return {
            "stored": self.stored,
            "stale_hazards": self.stale_hazards,
            "stale_targets": self.stale_targets,
            "redo_targets": self.redo_targets,
            "fresh_targets": [r[0] for r in self.measured],
            "fresh_hazards": [r[1] for r in self.measured],
            "fresh_m": [r[2] for r in self.measured],
        }


def pairs_now(
    conn: sa.Connection, hazard: LayerSpec, target: LayerSpec, reach_m: float
) -> PairsNow:
    """The pairs within `reach_m` as this transaction sees the layers, read-only."""
    key = pairs.pairing(hazard, target)
    v = pairs.versions_table
    measured_before = conn.execute(
        sa.select(sa.literal(1)).where(v.c.pairing == key).limit(1)
    ).first()
    if reach_m > pairs.REACH_M or not measured_before:
        return PairsNow(
            False, measured=pairs.measured_pairs(conn, hazard, target, reach_m, all_rows=True)
        )
    if pairs.unchanged(conn, hazard, target):  # no write since a complete refresh
        return PairsNow(True)
    hazards, targets = pairs.stale(conn, hazard, target)
    if not hazards and not targets:
        return PairsNow(True)
    measured = pairs.measured_pairs(conn, hazard, target, pairs.REACH_M, hazards, targets)
    p = pairs.pairs_table
    redo = set(targets) | {r[0] for r in measured}
    redo.update(
        conn.execute(
            sa.select(p.c.target_id).where(p.c.pairing == key, p.c.hazard_id.in_(hazards))
        ).scalars()
    )
    return PairsNow(True, hazards, targets, sorted(redo), measured)
