"""The one way the analyses fill SQL text: named blocks from `.sql` files, one substitution pass.

A block starts at a line `-- name: x`. `{placeholder}`s are filled in one pass (text put in is
never scanned again), with identifiers quoted by `quote` and fixed fragments written by our code;
values are never put in the text — they are bound parameters (`:name`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.dialects import postgresql

_quote = postgresql.dialect().identifier_preparer.quote
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def quote(identifier: str) -> str:
    """An identifier quoted for SQL text; identifiers only ever come from layer specs."""
    return _quote(identifier)


@functools.cache
def blocks(path: Path) -> Mapping[str, str]:
    """The named blocks of a `.sql` file, comment lines left out."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-- name: "):
            current = found.setdefault(line.removeprefix("-- name: ").strip(), [])
        elif current is not None and not line.lstrip().startswith("--"):
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in found.items()}


def fill(template: str, parts: Mapping[str, str]) -> str:
    """Every `{name}` of `template` replaced by `parts[name]`, in one pass; a missing part is a bug
    (KeyError), not an empty string."""
    return PLACEHOLDER.sub(lambda m: parts[m.group(1)], template)
