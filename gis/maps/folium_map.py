"""The Folium maps, driven by the layer specs: the one module that builds Leaflet maps.

Every map has the boundaries as its base layer (it works with no tile server), OpenStreetMap only
as an optional base layer, one layer per `LayerData`, dense point layers clustered, a layer
control, a legend from the specs' styles and the panels every map must show (elements.py). Each
kind of map is one function taking plain data, so a new one (coverage, a route) is small;
`render` makes the page, its scripts linked from or inlined out of node_modules, never a CDN.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster, MeasureControl
from folium.utilities import JsCode

from gis.errors import InvalidParameter
from gis.maps.assets import MapAssets
from gis.maps.configs import layer_config, tile_url
from gis.maps.data import LayerData, union_bounds
from gis.maps.elements import (
    FitBounds,
    GeoJsonText,
    LayerConfigs,
    MapFrame,
    Panels,
    Panes,
    RawHtml,
    TiledLayer,
    ZoomGate,
    cluster_css,
    escape,
    own_head,
    script_json,
)
from gis.notices import NOT_SAFE
from gis.spec import Style

# How near a hazard area the locate button warns, by default and at most (a page parameter).
DEFAULT_DANGER_M = 100.0
MIN_DANGER_M, MAX_DANGER_M = 10.0, 5000.0
# npm files every map needs besides Folium's own (the locate button's geodesics).
OWN_ASSETS = ("geodesic",)
# At national zoom (about 7 for Azerbaijan) villages are off; from this zoom on they appear.
VILLAGES_FROM_ZOOM = 9.0
# Point layers with more features than this are clustered (MarkerCluster).
CLUSTER_ABOVE = 200
# Polygon layers with more features than this are drawn on a canvas (a zoom step repaints one
# canvas instead of moving every SVG path: about 1 s for 20,000 paths).
CANVAS_ABOVE = 1000
OSM_NAME = "OpenStreetMap (needs internet)"
VISIT_COLOUR = "#1f4e9c"
# Each coverage layer holds one kind of target, so one colour each (and one legend entry): the
# uncovered a magenta ring, the covered a muted blue dot, both outside the hazard areas' palette
# (red, orange, greens, greys), so a gap in coverage is never read as a hazard.
UNCOVERED_STYLE = Style(color="#ff00ff", icon="ring")
COVERED_STYLE = Style(color="#8c96c6", icon="home")


@dataclass(frozen=True)
class Centre:
    """The point a visit map is about."""

    lon: float
    lat: float
    radius_m: float


def layers_map(
    layers: Sequence[LayerData],
    frame: MapFrame,
    *,
    base: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    under: Sequence[Element] = (),
    over: Sequence[Element] = (),
    min_zooms: Mapping[str, float] | None = None,
) -> folium.Map:
    """A map of the given layers: the one keyed `base` as the base layer, the others as overlays,
    framed on `bounds` (default: all the layers' features). `under` and `over` are drawn below and
    above the layers (before the layer control, which names them)."""
    m = _new_map(frame, bounds or union_bounds(layers))
    configs: dict[str, dict[str, object]] = {}
    clustered: list[tuple[str, str]] = []
    for element in under:
        m.add_child(element)
    hazards = hazard_key(layers)
    # Place names are kept clear of hazard areas by reading the drawn SVG paths, so a map with
    # place labels draws every polygon as SVG: a label must never hide a hazard on a canvas.
    svg_only = any(layer.label_key == "_n" for layer in layers)
    for layer in layers:
        configs[layer.key] = layer_config(layer) | (
            {"pane": "sgHazards"} if layer.key == hazards else {}
        )
        if layer.label_key and layer.key == hazards and layer.spec.style.color_by:
            configs[layer.key]["labelBy"] = "_k"  # its label says its status, then its distance
        if layer.label_key == "_n":  # a place's name: kept clear of every hazard area
            configs[layer.key]["placeLabel"] = True
        if _add_layer(
            m,
            layer,
            base=layer.key == base,
            hazard=layer.key == hazards,
            min_zoom=(min_zooms or {}).get(layer.key, 0),
            canvas=not svg_only,
        ):
            clustered.append((layer.key, (layer.style or layer.spec.style).color))
    for element in over:
        m.add_child(element)
    folium.TileLayer(
        "OpenStreetMap", name=OSM_NAME, overlay=False, show=False, control=True
    ).add_to(m)
    m.add_child(LayerConfigs(configs), name="sg_layer_configs")
    _figure(m).header.add_child(
        RawHtml(f"<style>{cluster_css(clustered)}</style>"), name="sg_cluster_css"
    )
    # On a phone the layer list is a button (Leaflet's collapsed control), never an open list.
    folium.LayerControl(
        position="topright",
        collapsed=JsCode(f"SG.phone() || {json.dumps(len(layers) > 8)}"),  # type: ignore[arg-type]
    ).add_to(m)
    return m


@dataclass(frozen=True)
class Facts:
    """The printed table of one layer's features (e.g. every hazard area within reach)."""

    title: str
    fields: tuple[str, ...]
    empty: str


VISIT_FACTS = ("name", "status", "distance", "bearing", "area_m2")
ROUTE_FACTS = ("name", "status", "from_route", "along", "crosses")


def finish(
    m: folium.Map,
    frame: MapFrame,
    layers: Sequence[LayerData],
    *,
    aoi: tuple[float, float, float, float] | None,
    hazards: str | None = None,
    facts: Facts | None = None,
) -> folium.Map:
    """Add the panels last: they mark the map ready once everything above is drawn. `aoi` is the
    area of interest the map opens on, clear of every panel; `hazards` the layer the locate
    button measures to; `facts` the table printed below the map."""
    hazards = hazard_key(layers, hazards)
    options: dict[str, object] = {"notSafe": NOT_SAFE}
    if aoi is not None:
        minx, miny, maxx, maxy = aoi
        options["aoi"] = [[miny, minx], [maxy, maxx]]
    hazard = next((layer for layer in layers if layer.key == hazards), None)
    options["locate"] = {
        "layer": hazards,
        "statusField": "_k" if hazard and hazard.spec.style.color_by else None,
        "toleranceM": hazard.tolerance_m if hazard else 0.0,
    }
    if facts is not None and hazard is not None:
        fields = [f for f in facts.fields if f in hazard.popup_fields]
        options["facts"] = {
            "layer": hazards, "title": facts.title, "fields": fields, "empty": facts.empty,
        }  # fmt: skip
    m.add_child(Panels(frame, layers, options), name="sg_panels")
    return m


def overview_map(
    layers: Sequence[LayerData],
    frame: MapFrame,
    *,
    base: str | None = None,
    hazards: str | None = None,
    aoi: tuple[float, float, float, float] | None = None,
    national: bool = False,
    shade: Mapping[str, object] | None = None,
) -> folium.Map:
    """Everything the caller may see, over the boundaries, framed on `aoi` (default: all).
    `national`: reference points (villages) appear only from a regional zoom on, so the danger,
    not the settlement pattern, is what a country-wide view shows. `shade`: the choropleth's
    map.js configuration for the `base` layer (choropleth.Choropleth.config); the hazard areas
    keep their own pane above it."""
    gates = {
        layer.key: VILLAGES_FROM_ZOOM
        for layer in layers
        if national and layer.spec.reference and layer.spec.geometry_type == "Point"
    }
    m = layers_map(layers, frame, base=base, bounds=aoi, min_zooms=gates)
    shaded = next((layer for layer in layers if layer.key == base), None)
    if shade is not None and shaded is not None:  # the districts, filled by the figure
        config = layer_config(shaded) | {"shade": dict(shade)}
        m.add_child(LayerConfigs({shaded.key: config}), name="sg_shade_configs")
    return finish(m, frame, layers, aoi=aoi or union_bounds(layers), hazards=hazards)


def hazard_key(layers: Sequence[LayerData], hazards: str | None = None) -> str | None:
    """The layer the locate button measures to and the printed table lists: `hazards`, or the
    first whose spec says which of its features are still dangerous (`active_filter`)."""
    if hazards is not None:
        return hazards
    return next((layer.key for layer in layers if layer.spec.active_filter), None)


def _with_hazards(
    bounds: tuple[float, float, float, float], layers: Sequence[LayerData], hazards: str | None
) -> tuple[float, float, float, float]:
    """The reach (or corridor) and every hazard area reaching into it, whole."""
    key = hazard_key(layers, hazards)
    boxes = [layer.bounds for layer in layers if layer.key == key and layer.bounds]
    return union_bounds_of([bounds, *boxes])


def union_bounds_of(
    boxes: Sequence[tuple[float, float, float, float]],
) -> tuple[float, float, float, float]:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def visit_map(
    layers: Sequence[LayerData],
    frame: MapFrame,
    centre: Centre,
    *,
    base: str | None = None,
    hazards: str | None = None,
) -> folium.Map:
    """A printable map of one place and what lies within reach: the reach drawn as a circle, a
    mark at the centre, a scale bar, a measure tool and, printed, the table of hazard areas."""
    aoi = _with_hazards(_circle_bounds(centre), layers, hazards)
    m = layers_map(layers, frame, base=base, bounds=aoi)
    folium.Circle(
        location=[centre.lat, centre.lon],
        radius=centre.radius_m,
        color=VISIT_COLOUR,
        weight=2,
        fill=False,
        dash_array="8 6",
        interactive=False,
        class_name="sg-reach",
    ).add_to(m)
    folium.CircleMarker(
        [centre.lat, centre.lon],
        radius=7,
        color=VISIT_COLOUR,
        weight=3,
        fill=True,
        fill_color="#ffffff",
        fill_opacity=0.8,
        interactive=False,
        class_name="sg-centre",
    ).add_to(m)
    _measure(m)
    facts = Facts(
        "Hazard areas within reach",
        VISIT_FACTS,
        "No hazard area on record within reach: that does not make the area safe.",
    )
    return finish(m, frame, layers, aoi=aoi, hazards=hazards, facts=facts)


def route_map(
    layers: Sequence[LayerData],
    frame: MapFrame,
    route: Mapping[str, object],
    corridor: Mapping[str, object],
    bounds: tuple[float, float, float, float],
    *,
    base: str | None = None,
    hazards: str | None = None,
) -> folium.Map:
    """A printable map of a planned route: its corridor (GeoJSON polygon) shaded under the layers,
    the route (GeoJSON line) above them, a scale bar and a measure tool. Both geometries hold
    coordinates only (no names), built by PostGIS."""
    shaded = folium.GeoJson(
        dict(corridor),
        name="Corridor",
        style_function=lambda _: {
            "color": VISIT_COLOUR,
            "weight": 1,
            "dashArray": "6 4",
            "fillColor": VISIT_COLOUR,
            "fillOpacity": 0.08,
            "className": "sg-corridor",
        },
        interactive=False,
        control=True,
    )
    line = folium.GeoJson(
        dict(route),
        name="Route",
        style_function=lambda _: {
            "color": VISIT_COLOUR,
            "weight": 4,
            "opacity": 0.9,
            "className": "sg-route",
        },
        interactive=False,
        control=True,
    )
    aoi = _with_hazards(bounds, layers, hazards)
    m = layers_map(layers, frame, base=base, bounds=aoi, under=[shaded], over=[line])
    _measure(m)
    facts = Facts(
        "Hazard areas in the corridor",
        ROUTE_FACTS,
        "No hazard area on record in the corridor: that does not make the route safe.",
    )
    return finish(m, frame, layers, aoi=aoi, hazards=hazards, facts=facts)


def _measure(m: folium.Map) -> None:
    MeasureControl(
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
    ).add_to(m)


def coverage_map(
    uncovered: LayerData,
    covered: LayerData,
    context: Sequence[LayerData],
    frame: MapFrame,
    *,
    rings_m: Sequence[float] = (),
    size_by: str | None = "population",
    size_max: float | None = None,
    base: str | None = None,
    hazards: str | None = None,
) -> folium.Map:
    """Hook for the coverage analysis: its uncovered targets prominent (red, sized by `size_by`,
    with distance rings on request), covered ones muted, over `context` (boundaries, hazards, the
    sessions that count). The summary figures and parameters go in `frame.facts` / `frame.lines`.
    The targets' features carry a boolean `covered`; `size_max` sizes by a score (e.g. priority)
    linearly up to that value, instead of by a head count."""
    targets = [
        _with(uncovered, style=UNCOVERED_STYLE, emphasis=True, key=f"{uncovered.key}_uncovered"),
        _with(covered, style=COVERED_STYLE, key=f"{covered.key}_covered"),
    ]
    layers = [*context, *targets]
    m = layers_map(layers, frame, base=base)
    extra: dict[str, object] = {"rings": [float(r) for r in rings_m], "sizeBy": size_by}
    if size_max:  # a score, not a head count: sized linearly up to the largest drawn
        extra["sizeMax"] = float(size_max)
    m.add_child(
        LayerConfigs({targets[0].key: layer_config(targets[0]) | extra}), name="sg_coverage_configs"
    )
    # framed on what the analysis is about (the targets and the hazards), not the whole outlines
    aoi = union_bounds([layer for layer in layers if layer.key != base]) or union_bounds(layers)
    return finish(m, frame, layers, aoi=aoi, hazards=hazards)


def render(m: folium.Map, assets: MapAssets, *, danger_m: float = DEFAULT_DANGER_M) -> str:
    """The whole page. Folium's CDN links are removed from every element and replaced by the npm
    files they stand for (assets.py refuses any it does not know). `danger_m`: how near a hazard
    area the locate button warns."""
    if not (MIN_DANGER_M <= danger_m <= MAX_DANGER_M):
        raise InvalidParameter(
            f"danger_m must be between {MIN_DANGER_M:g} and {MAX_DANGER_M:g} metres"
        )
    names: list[str] = [*OWN_ASSETS]
    for element in _walk(m):
        if isinstance(element, JSCSSMixin):
            names += [name for name, _ in (*element.default_js, *element.default_css)]
            element.default_js, element.default_css = (
                [],
                [],
            )  # per instance; the class keeps its own
    root = _figure(m)
    head = assets.head_html(["leaflet", "leaflet_css", *names]) + "\n" + own_head()
    head += f"<script>SG.configure({script_json({'dangerM': float(danger_m)})});</script>"
    root.header.add_child(RawHtml(head), name="sg_assets", index=0)
    return root.render()


def _figure(m: folium.Map) -> Figure:
    root = m.get_root()
    assert isinstance(root, Figure)  # folium.Map always sits in a Figure
    return root


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _walk(child)


def _new_map(frame: MapFrame, bounds: tuple[float, float, float, float] | None) -> folium.Map:
    minx, miny, maxx, maxy = bounds or (-180.0, -60.0, 180.0, 75.0)
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=8,
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
    )
    # With no tile layer the map has no zoom range of its own, and MarkerCluster needs one; a
    # quarter-step zoom lets a country or a district fill the screen. (The metric scale bar is
    # added with the panels, below the legend.)
    m.options.update(max_zoom=19, min_zoom=3, zoom_snap=0.25)
    _figure(m).title = escape(frame.title)
    if bounds:
        m.add_child(FitBounds(bounds), name="sg_fit_bounds")
    m.add_child(Panes(), name="sg_panes")
    return m


def _add_layer(
    m: folium.Map,
    layer: LayerData,
    *,
    base: bool,
    hazard: bool = False,
    min_zoom: float = 0,
    canvas: bool = True,
) -> bool:
    """Add one layer; True if it was clustered. The hazard layer goes in its own pane above every
    symbol and is never clustered; `min_zoom` hides a layer below that zoom; a big polygon layer
    is drawn on a canvas unless `canvas` is False."""
    key = json.dumps(layer.key)
    point = layer.spec.geometry_type == "Point"
    name = escape(f"{layer.title} ({layer.count:,})")
    if layer.tiled:
        TiledLayer(layer.key, tile_url(layer.spec.name), name=name, min_zoom=min_zoom).add_to(m)
        return False
    cluster = (
        point
        and not hazard
        and not layer.label_key
        and not layer.emphasis
        and layer.count > CLUSTER_ABOVE
    )
    options: dict[str, Any] = {"pane": "sgHazards"} if hazard else {}
    if canvas and not point and layer.count > CANVAS_ABOVE:
        pane = json.dumps(options.get("pane"))
        options["renderer"] = JsCode(f"SG.canvas({pane})")
    geojson = folium.GeoJson(
        {"type": "FeatureCollection", "features": []},
        name=name,
        overlay=not base,
        show=True,
        control=not cluster,
        on_each_feature=JsCode(f"SG.bind({key})"),
        style=JsCode(f"SG.style({key})"),  # Leaflet options: styled in the browser, per feature
        point_to_layer=JsCode(f"SG.point({key})") if point else None,
        **options,
    )
    geojson.add_child(GeoJsonText(layer.packed), name=f"sg_data_{layer.key}")
    if cluster:
        group = MarkerCluster(
            name=name,
            overlay=True,
            control=True,
            show=True,
            icon_create_function=f"SG.clusterIcon({key})",
            show_coverage_on_hover=False,
            max_cluster_radius=45,
            spiderfy_on_max_zoom=True,
            # the map is framed again once its panels are placed: no half-finished animation
            animate=False,
        )
        geojson.add_to(group)
        group.add_to(m)
        shown: Element = group
    else:
        geojson.add_to(m)
        shown = geojson
    if min_zoom:
        m.add_child(ZoomGate(shown, min_zoom))
    return cluster


def _with(layer: LayerData, **changes: object) -> LayerData:
    return replace(layer, **changes)  # type: ignore[arg-type]


def _circle_bounds(centre: Centre) -> tuple[float, float, float, float]:
    """A box around the reach, from the radius in metres (spherical: only frames the view)."""
    dlat = centre.radius_m / 111_320
    dlon = dlat / max(math.cos(math.radians(centre.lat)), 0.01)
    return (centre.lon - dlon, centre.lat - dlat, centre.lon + dlon, centre.lat + dlat)
