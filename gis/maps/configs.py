"""What map.js is told about each layer: how to draw, colour, label and describe it, all from
the layer's spec (or a map's override style), and where its vector tiles are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gis.maps.data import LayerData
from gis.maps.elements import colour, shape


def layer_config(layer: LayerData) -> dict[str, object]:
    """What map.js needs to draw and describe a layer, all from the spec (or the override style)."""
    spec, style = layer.spec, layer.style or layer.spec.style
    by = style.color_by and ("_k" if layer.style is None else style.color_by)
    tiles: dict[str, object] = {
        "tileLayer": spec.name,
        "tileBy": style.color_by,
        "point": spec.geometry_type == "Point",
    }
    return (tiles if layer.tiled else {}) | {
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


def tile_url(layer: str) -> str:
    """The layer's vector tiles, relative to a page under /maps/ (OGC API – Tiles order)."""
    return f"../collections/{layer}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"


def page_configs(layers: Sequence[LayerData]) -> Mapping[str, dict[str, object]]:
    """Every layer's map.js configuration, by key (for tests and debugging)."""
    return {layer.key: layer_config(layer) for layer in layers}
