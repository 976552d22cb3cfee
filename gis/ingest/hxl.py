"""HXL (Humanitarian Exchange Language): a row of hashtags under (or as) a table's header.

A file with such a row is read by its hashtags: the row is not data, and a column whose name is
not a field is matched by its hashtag (`#date+start`), through the layer's HXL tags or a mapping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HASHTAG = re.compile(r"^#[a-z][a-z0-9_]*(\s*\+\s*[a-z][a-z0-9_]*)*$", re.IGNORECASE)


def is_hashtag(value: object) -> bool:
    return isinstance(value, str) and bool(_HASHTAG.match(value.strip()))


def is_hashtag_row(cells: Sequence[object]) -> bool:
    """Every non-empty cell a hashtag, and at least one of them."""
    filled = [c for c in cells if c not in (None, "")]
    return bool(filled) and all(is_hashtag(c) for c in filled)


def hxl_key(tag: str) -> tuple[str, frozenset[str]]:
    """`#Reached +F +children` → ('reached', {'f', 'children'}): attribute order does not matter."""
    name, *attributes = re.sub(r"\s+", "", tag.strip().lower()).lstrip("#").split("+")
    return name, frozenset(attributes)


def matches(pattern: str, tag: str) -> bool:
    """HXL's pattern rule: same hashtag, and the tag has every attribute of the pattern."""
    p_name, p_attrs = hxl_key(pattern)
    t_name, t_attrs = hxl_key(tag)
    return p_name == t_name and p_attrs <= t_attrs
