"""Jinja2 for every HTML page SafeGround writes: autoescape on, undefined names an error."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


@cache
def environment(folder: Path) -> Environment:
    """The templates of one folder (each package keeps its own next to its code)."""
    return Environment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=False,
    )


def render(folder: Path, name: str, **context: object) -> str:
    return environment(folder).get_template(name).render(**context)
