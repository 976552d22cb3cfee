"""Place names in the map's language (`lang=az|en|ru`): a layer's `name_<lang>` where the record
has one, else its Azerbaijani name (`name_az`), else the name it was recorded under (`name`).

A layer with no `name_en` column keeps its English name in `name` (the districts: Statoids'
romanisation, e.g. Aghdam), so that is its English name. The original names stay in the popups
beside the chosen one: the map never hides the name a place was recorded under.
"""

from __future__ import annotations

from typing import Literal, get_args

import sqlalchemy as sa

from gis.errors import InvalidParameter
from gis.spec import LayerSpec

Lang = Literal["az", "en", "ru"]
LANGS: tuple[str, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "az"
LANGUAGE = {"az": "Azerbaijani", "en": "English", "ru": "Russian"}


def checked(lang: str) -> Lang:
    if lang not in LANGS:
        raise InvalidParameter(f"lang must be one of {', '.join(LANGS)}, not '{str(lang)[:20]}'")
    return lang  # type: ignore[return-value]


def local_name(spec: LayerSpec, lang: str) -> sa.ColumnElement | None:
    """The layer's name in `lang` with its fallbacks, or None for a layer without names in
    several languages (a facility's name is the one it has)."""
    columns = spec.table.c
    if "name" not in columns or "name_az" not in columns:
        return None
    wanted = f"name_{checked(lang)}"
    if wanted in columns:
        first = [columns[wanted]]
    elif lang == "en":
        first = [columns["name"]]
    else:
        first = []
    return sa.func.coalesce(*first, columns["name_az"], columns["name"])
