"""One lookup of an area (a district) by name or code, for the maps and the analyses alike.

Names are not unique (Shusha is a rayon and a city; Sheki too), so an ambiguous name is refused
with every candidate and its code, never silently resolved to one of them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import sqlalchemy as sa

from gis.errors import InvalidParameter
from gis.spec import LayerSpec

MAX_CANDIDATES = 10


@dataclass(frozen=True)
class Area:
    """One live feature of the area layer."""

    id: int
    name: str
    code: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


def find_area(conn: sa.Connection, spec: LayerSpec, text: str, param: str = "district") -> Area:
    """The live area whose name, code or other name field is `text`, case-insensitively.

    InvalidParameter (a 400) when none is, suggesting near names, or when several are, listing
    them with their codes.
    """
    if not spec.code_field or not spec.name_fields:
        raise ValueError(f"layer {spec.name} declares no code_field and name_fields")
    wanted = text.strip().casefold()
    if not wanted or len(wanted) > 200 or not wanted.isprintable():
        raise InvalidParameter(f"{param} must be a name or code of 1 to 200 printable characters")
    t = spec.table
    name, code = t.c[spec.name_fields[0]], t.c[spec.code_field]
    columns = [t.c[f] for f in dict.fromkeys((*spec.name_fields, spec.code_field))]
    rows = conn.execute(
        sa.select(t.c.id, name, code)
        .where(t.c.deleted_at.is_(None), sa.or_(*(sa.func.lower(c) == wanted for c in columns)))
        .order_by(code, t.c.id)
        .limit(MAX_CANDIDATES)
    ).all()
    found = [Area(int(r[0]), str(r[1]), str(r[2])) for r in rows]
    if len(found) > 1:
        raise InvalidParameter(
            f"{param} '{text.strip()[:200]}' is ambiguous: "
            f"{', '.join(a.label for a in found)}; give the code"
        )
    if found:
        return found[0]
    # On the error path only, over a reference table of tens of rows: suggest near names.
    names = conn.scalars(sa.select(name).where(t.c.deleted_at.is_(None)).limit(5000)).all()
    by_lower = {str(n).casefold(): str(n) for n in names}
    alike = [
        by_lower[n] for n in difflib.get_close_matches(wanted, list(by_lower), n=3, cutoff=0.6)
    ]
    hint = f"; did you mean {' or '.join(alike)}?" if alike else ""
    raise InvalidParameter(
        f"unknown {param} '{text.strip()[:200]}': give a name or code of the {spec.name} "
        f"layer{hint}"
    )
