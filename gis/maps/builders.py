"""The maps SafeGround serves, from parameters to a Folium map: query, frame, draw.

The HTTP routes, the command line and the benchmark all call these, so the three build exactly the
same maps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import folium
import sqlalchemy as sa

from gis.areas import find_area
from gis.errors import InvalidParameter
from gis.maps import choropleth, data, folium_map, names, nearby
from gis.maps.elements import ShadeLegend, frame_for
from gis.roles import LayerRoles
from gis.settings import AnalysisSettings
from gis.spec import Registry, Role

# A served overview draws a layer of more features than this from its vector tiles: inline, each
# feature costs the page about 150 bytes (the large demo's overview would be 15 MB).
TILE_ABOVE = 1_500


@dataclass(frozen=True)
class BuiltMap:
    """A built map and what it holds (counts by layer key, for callers that report or test)."""

    map: folium.Map
    counts: dict[str, int]


def overview(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    *,
    district: str | None = None,
    since: dt.date | None = None,
    download_href: str | None = None,
    roles: LayerRoles | None = None,
    tiled: bool = False,
    shade: str | None = None,
    analysis: AnalysisSettings | None = None,
    lang: str = names.DEFAULT_LANG,
) -> BuiltMap:
    """Every layer the role may read: nationally (simplified), or one district's area in detail.
    `tiled` (a served page, never a file): big layers are drawn from the vector tiles. `shade`:
    the districts shaded by one figure of the analyses (choropleth.SHADES)."""
    roles = roles or LayerRoles.defaults(registry)
    names.checked(lang)
    found = find_area(conn, roles.areas, district) if district else None
    shaded = (
        choropleth.district_shade(
            conn, registry, role, shade, analysis=analysis, since=since, roles=roles
        )
        if shade is not None
        else None
    )
    selection = data.overview(
        conn,
        registry,
        role,
        district=found,
        since=since,
        roles=roles,
        tile_above=TILE_ABOVE if tiled else None,
        lang=lang,
    )
    lines = []
    if shaded:
        lines.append(f"Districts shaded by {shaded.title.lower()}: {shaded.window}")
    if found:
        lines.append(f"District: {found.label}, with its neighbours' outlines")
    if since:
        lines.append(
            f"Activities since {day(since)}; hazard areas: all on record, whatever their date"
        )
    simplified = max(
        (layer.tolerance_m for layer in selection.layers if not layer.tiled), default=0
    )
    if simplified:  # the popups and downloads keep the stored shapes and figures
        lines.append(
            f"Shapes simplified for display at this scale (within {simplified:,.0f} m); "
            "popups give the recorded figures"
        )
    lines += [
        f"{layer.spec.title}: only the {layer.count:,} most recent are drawn; choose a district "
        "or a later date to see the others"
        for layer in selection.layers
        if layer.truncated
    ]
    frame = frame_for(
        selection.layers,
        "SafeGround overview" + (f": {found.name}" if found else ""),
        lines=lines,
        hidden=selection.hidden,
        hazards_title=roles.hazards.title,
        download_href=download_href,
        shade=None
        if shaded is None
        else ShadeLegend(
            title=shaded.title,
            definition=shaded.definition,
            window=shaded.window,
            classes=tuple((c.label, c.colour) for c in shaded.classes),
            no_data=shaded.no_data,
        ),
    )
    m = folium_map.overview_map(
        selection.layers,
        frame,
        base=roles.areas.name,
        national=found is None,
        shade=shaded.config() if shaded else None,
    )
    return BuiltMap(m, {layer.key: layer.count for layer in selection.layers})


def visit(
    conn: sa.Connection,
    registry: Registry,
    role: Role,
    *,
    village: str | None = None,
    district: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    radius_m: float = nearby.DEFAULT_RADIUS_M,
    download_href: str | None = None,
    roles: LayerRoles | None = None,
    lang: str = names.DEFAULT_LANG,
) -> BuiltMap:
    """One place (a village, or a point) and what lies within `radius_m` of it, ready to print;
    place names in `lang` (names.py)."""
    names.checked(lang)
    if village is not None and (lon is not None or lat is not None):
        raise InvalidParameter("give either a village or lon and lat, not both")
    roles = roles or LayerRoles.defaults(registry)
    if village is not None:
        place = nearby.find_place(
            conn, roles.places, village, district=district, districts=roles.areas, role=role
        )
    elif lon is not None and lat is not None:
        place = nearby.Place(lon=lon, lat=lat)
    else:
        raise InvalidParameter("give a village (id or name), or both lon and lat")
    local = names.local_name(roles.places, lang) if place.id is not None else None
    if local is not None:  # the title names the place in the map's language too
        named = conn.scalar(sa.select(local).where(roles.places.table.c.id == place.id))
        place = replace(place, name=named or place.name)
    found = nearby.visit(conn, registry, role, place, radius_m, roles, lang=lang)
    reach = metres(radius_m)
    where = f"{place.name} ({place.district})" if place.name and place.district else place.name
    hazards = roles.hazards
    active = " or ".join(v for values in hazards.active_filter.values() for v in values) or "active"
    frame = frame_for(
        found.selection.layers,
        f"Visit: {where or coordinates(place.lat, place.lon)}",
        lines=(
            f"Centre {coordinates(place.lat, place.lon)}; reach {reach}",
            f"Map of {day(dt.datetime.now(dt.UTC).date())}",
        ),
        facts=visit_facts(found, reach, active),
        hidden=found.selection.hidden,
        hazards_title=hazards.title,
        download_href=download_href,
    )
    centre = folium_map.Centre(place.lon, place.lat, radius_m)
    m = folium_map.visit_map(found.selection.layers, frame, centre, base=roles.areas.name)
    return BuiltMap(m, {layer.key: layer.count for layer in found.selection.layers})


def visit_facts(
    found: nearby.Visit, reach: str, active: str = "suspected or confirmed"
) -> list[str]:
    """What a field team reads before the map: hazards within reach, last session, facilities."""
    facts = []
    if found.hazards_within is not None:
        if found.hazards_within == 0:
            facts.append(
                f"No hazard area on record within {reach}: that does not make the area safe."
            )
        else:
            nearest = (
                f"; the nearest of those is {metres(found.nearest_active_m)} away"
                if found.nearest_active_m is not None
                else ""
            )
            facts.append(
                f"{found.hazards_within} hazard area(s) on record within {reach}, "
                f"{found.active_within} of them {active}{nearest}."
            )
    if found.last_session is not None:
        s = found.last_session
        at = f" at {s.place_name}" if s.place_name else ""
        facts.append(
            f"Last risk-education session within reach: {day(s.held_on)}{at}, "
            f"{metres(s.distance_m)} away."
        )
    else:
        facts.append(f"No risk-education session on record within {reach}.")
    if found.facilities_within is not None:
        facts.append(
            f"{found.facilities_within} facilit{'y' if found.facilities_within == 1 else 'ies'} "
            f"within {reach}."
        )
    for other in found.others:  # any other activity layer, in its own words
        nearest = f", the nearest {metres(other.nearest_m)} away" if other.count else ""
        facts.append(f"{other.spec.title}: {other.count:,} on record within {reach}{nearest}.")
    return facts


def day(value: dt.date) -> str:
    return f"{value.day} {value:%b %Y}"


def metres(value: float | None) -> str:
    if value is None:
        return "unknown"
    if value < 0.5:
        return "0 m"
    return f"{value:,.0f} m" if value < 1000 else f"{value / 1000:,.1f} km"


def coordinates(lat: float, lon: float) -> str:
    north, east = "N" if lat >= 0 else "S", "E" if lon >= 0 else "W"
    return f"{abs(lat):.5f}° {north}, {abs(lon):.5f}° {east}"
