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

import folium
from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster, MeasureControl
from folium.utilities import JsCode

from gis.maps.assets import MapAssets
from gis.maps.data import LayerData, union_bounds
from gis.maps.elements import (
    FitBounds,
    GeoJsonText,
    LayerConfigs,
    MapFrame,
    Panels,
    RawHtml,
    cluster_css,
    colour,
    escape,
    own_head,
    shape,
)
from gis.spec import Style

# Point layers with more features than this are clustered (MarkerCluster).
CLUSTER_ABOVE = 200
OSM_NAME = "OpenStreetMap (needs internet)"
VISIT_COLOUR = "#1f4e9c"
# Each coverage layer holds one kind of target, so one colour each (and one legend entry).
UNCOVERED_STYLE = Style(color="#d7191c")
COVERED_STYLE = Style(color="#9e9e9e")


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
) -> folium.Map:
    """A map of the given layers: the one keyed `base` as the base layer, the others as overlays,
    framed on `bounds` (default: all the layers' features). `under` and `over` are drawn below and
    above the layers (before the layer control, which names them)."""
    m = _new_map(frame, bounds or union_bounds(layers))
    configs: dict[str, dict[str, object]] = {}
    clustered: list[tuple[str, str]] = []
    for element in under:
        m.add_child(element)
    for layer in layers:
        configs[layer.key] = layer_config(layer)
        if _add_layer(m, layer, base=layer.key == base):
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
    folium.LayerControl(position="topright", collapsed=len(layers) > 8).add_to(m)
    return m


def finish(m: folium.Map, frame: MapFrame, layers: Sequence[LayerData]) -> folium.Map:
    """Add the panels last: they mark the map ready once everything above is drawn."""
    m.add_child(Panels(frame, layers), name="sg_panels")
    return m


def overview_map(
    layers: Sequence[LayerData], frame: MapFrame, *, base: str | None = None
) -> folium.Map:
    """Everything the caller may see, over the boundaries."""
    return finish(layers_map(layers, frame, base=base), frame, layers)


def visit_map(
    layers: Sequence[LayerData], frame: MapFrame, centre: Centre, *, base: str | None = None
) -> folium.Map:
    """A printable map of one place and what lies within reach: the reach drawn as a circle, a
    mark at the centre, a scale bar and a measure tool."""
    m = layers_map(layers, frame, base=base, bounds=_circle_bounds(centre))
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
    return finish(m, frame, layers)


def route_map(
    layers: Sequence[LayerData],
    frame: MapFrame,
    route: Mapping[str, object],
    corridor: Mapping[str, object],
    bounds: tuple[float, float, float, float],
    *,
    base: str | None = None,
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
    m = layers_map(layers, frame, base=base, bounds=bounds, under=[shaded], over=[line])
    _measure(m)
    return finish(m, frame, layers)


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
    return finish(m, frame, layers)


def layer_config(layer: LayerData) -> dict[str, object]:
    """What map.js needs to draw and describe a layer, all from the spec (or the override style)."""
    spec, style = layer.spec, layer.style or layer.spec.style
    by = style.color_by and ("_k" if layer.style is None else style.color_by)
    return {
        "key": layer.key,
        "title": layer.title,
        "by": by,
        "colors": {str(k): colour(v) for k, v in style.colors.items()},
        "color": colour(style.color),
        "fillOpacity": style.fill_opacity,
        "weight": 1.5 if spec.reference else 2,
        "shape": shape(style),
        "fields": list(layer.popup_fields),
        "labels": dict(layer.labels),
        "tip": layer.tooltip,
        "label": layer.label_key,
        "emphasis": layer.emphasis,
    }


def render(m: folium.Map, assets: MapAssets) -> str:
    """The whole page. Folium's CDN links are removed from every element and replaced by the npm
    files they stand for (assets.py refuses any it does not know)."""
    names: list[str] = []
    for element in _walk(m):
        if isinstance(element, JSCSSMixin):
            names += [name for name, _ in (*element.default_js, *element.default_css)]
            element.default_js, element.default_css = (
                [],
                [],
            )  # per instance; the class keeps its own
    root = _figure(m)
    head = assets.head_html(names or ["leaflet", "leaflet_css"]) + "\n" + own_head()
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
    return m


def _add_layer(m: folium.Map, layer: LayerData, *, base: bool) -> bool:
    """Add one layer; True if it was clustered."""
    key = json.dumps(layer.key)
    point = layer.spec.geometry_type == "Point"
    name = escape(f"{layer.title} ({layer.count:,})")
    cluster = point and not layer.label_key and not layer.emphasis and layer.count > CLUSTER_ABOVE
    geojson = folium.GeoJson(
        {"type": "FeatureCollection", "features": []},
        name=name,
        overlay=not base,
        show=True,
        control=not cluster,
        on_each_feature=JsCode(f"SG.bind({key})"),
        style=JsCode(f"SG.style({key})"),  # Leaflet options: styled in the browser, per feature
        point_to_layer=JsCode(f"SG.point({key})") if point else None,
    )
    geojson.add_child(GeoJsonText(layer.geojson), name=f"sg_data_{layer.key}")
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
        )
        geojson.add_to(group)
        group.add_to(m)
    else:
        geojson.add_to(m)
    return cluster


def _with(layer: LayerData, **changes: object) -> LayerData:
    return replace(layer, **changes)  # type: ignore[arg-type]


def _circle_bounds(centre: Centre) -> tuple[float, float, float, float]:
    """A box around the reach, from the radius in metres (spherical: only frames the view)."""
    dlat = centre.radius_m / 111_320
    dlon = dlat / max(math.cos(math.radians(centre.lat)), 0.01)
    return (centre.lon - dlon, centre.lat - dlat, centre.lon + dlon, centre.lat + dlat)


def page_configs(layers: Sequence[LayerData]) -> Mapping[str, dict[str, object]]:
    """Every layer's map.js configuration, by key (for tests and debugging)."""
    return {layer.key: layer_config(layer) for layer in layers}
