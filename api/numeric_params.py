"""Every numeric query and path parameter checked before a route sees it: a 400 naming it and the
value sent, for an integer beyond 64 bits or a number that is not finite (NaN, inf, 1e309).

Python's int has no bound and pydantic's float takes 'nan' and 'inf', so such values would reach
the analyses and PostgreSQL and come back as a message naming nothing. One app-wide dependency
reads which parameters of the matched route are int or float (its FastAPI dependant tree, so a new
route is covered without a line here) and checks their raw text; malformed text ('abc' for an
int) is left to FastAPI, whose validation message names the parameter and, through
api/errors.py, the value.
"""

from __future__ import annotations

import math
import re
import types
import typing
from typing import Literal

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from gis.errors import InvalidParameter
from gis.params import shown

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")

Kind = Literal["int", "float"]


def _kind(annotation: object) -> Kind | None:
    """int or float, through Optional / Annotated / a union with None; bool is not a number."""
    if annotation is bool:
        return None
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        kinds = {_kind(a) for a in typing.get_args(annotation) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    return None


def _walk(dependant: Dependant) -> list[tuple[str, str, Kind]]:
    found: list[tuple[str, str, Kind]] = []
    for where, fields in (("query", dependant.query_params), ("path", dependant.path_params)):
        for field in fields:
            kind = _kind(field.field_info.annotation)
            if kind is not None:
                found.append((where, field.alias, kind))
    for sub in dependant.dependencies:
        found += _walk(sub)
    return found


def numeric_parameters(route: APIRoute) -> tuple[tuple[str, str, Kind], ...]:
    """(where, name as sent, kind) of every int or float parameter of the route, found once and
    kept on the route."""
    found: tuple[tuple[str, str, Kind], ...] | None = getattr(route, _KEPT, None)
    if found is None:
        found = tuple(dict.fromkeys(_walk(route.dependant)))
        setattr(route, _KEPT, found)
    return found


_KEPT = "_safeground_numeric_parameters"


def check(name: str, kind: Kind, raw: str) -> None:
    """InvalidParameter naming `name` and the value when it is out of range or not finite."""
    if kind == "int":
        text = raw.strip()
        if not _INTEGER.fullmatch(raw):
            return  # not an integer at all: FastAPI's validation says so
        digits = text.lstrip("+-").lstrip("0")
        # Over 19 digits is beyond 64 bits (and int() of thousands of digits is itself refused).
        if len(digits) > 19 or not INT64_MIN <= int(text) <= INT64_MAX:
            raise InvalidParameter(
                f"{name} must be an integer within 64 bits (and within its own range); "
                f"got '{shown(raw)}'"
            )
        return
    try:
        value = float(raw)
    except ValueError:
        return  # not a number at all: FastAPI's validation says so
    if not math.isfinite(value):
        raise InvalidParameter(f"{name} must be a finite number; got '{shown(raw)}'")


async def check_numeric_parameters(request: Request) -> None:
    """The app-wide dependency (create_app): every numeric parameter of the matched route."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    for where, name, kind in numeric_parameters(route):
        if where == "query":
            for raw in request.query_params.getlist(name):
                check(name, kind, raw)
        elif (value := request.path_params.get(name)) is not None:
            check(name, kind, str(value))
