"""What every map shows besides its layers: title, legend, the safety notice, the synthetic-data
label, extraction dates and attribution — HTML panels from a Jinja2 template, every text escaped.

Beware: Folium (branca) renders a MacroElement's macros, then renders their output *again* as a
Jinja template. Text that reaches a macro could therefore run as a template on the server, so every
text is escaped here with its braces too (`escape`, `script_safe`), and `{{ 7*7 }}` stays braces.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from gis.maps.data import LayerData
from gis.notices import NOT_SAFE, SYNTHETIC
from gis.spec import Style
from gis.templating import render

HERE = Path(__file__).resolve().parent
# SafeGround's own scripts, inlined in this order: map.js defines SG, the others extend it.
SCRIPTS = (
    "map.js",
    "labels.js",
    "packed.js",
    "canvas.js",
    "tilecanvas.js",
    "tiles.js",
    "locate.js",
)
# Marker shapes for the specs' icon names: CSS shapes, so maps need no icon font from a CDN.
SHAPES = {
    "school": "square", "gift": "diamond", "bullhorn": "triangle", "home": "dot", "ring": "ring",
}  # fmt: skip
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


def colour(value: str) -> str:
    """A spec colour, checked: colours go into CSS and scripts, so only #rrggbb is accepted."""
    if not _COLOUR.fullmatch(value):
        raise ValueError(f"not a #rrggbb colour: {value!r}")
    return value


def shape(style: Style) -> str:
    return SHAPES.get(style.icon, "circle")


@dataclass(frozen=True)
class MapFrame:
    """The panels' content, as plain data (unescaped: escaped when rendered)."""

    title: str
    lines: tuple[str, ...] = ()  # what the map shows: filters, centre, radius…
    facts: tuple[
        str, ...
    ] = ()  # findings worth reading before the map: nearest hazard, last session…
    extracted_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    latest_update: dt.datetime | None = None
    synthetic: bool = False
    attributions: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # titles of layers the caller may not read
    hazards_hidden: str | None = None  # the hazard layer's title, when it is among them
    download_href: str | None = None
    alert: str | None = None  # an analysis' own notice (e.g. the route check's), always shown
    alert_strong: bool = False  # the analysis found nothing: the notice matters most then
    shade: ShadeLegend | None = None  # the district choropleth's legend, when shaded


@dataclass(frozen=True)
class ShadeLegend:
    """The choropleth's legend: the figure, its definition, its classes and its date window."""

    title: str
    definition: str
    window: str
    classes: tuple[tuple[str, str], ...]  # (label, #rrggbb), light to dark
    no_data: str


def frame_for(
    layers: Sequence[LayerData],
    title: str,
    *,
    lines: Sequence[str] = (),
    facts: Sequence[str] = (),
    hidden: Sequence[str] = (),
    hazards_title: str | None = None,
    download_href: str | None = None,
    alert: str | None = None,
    alert_strong: bool = False,
    shade: ShadeLegend | None = None,
) -> MapFrame:
    """A frame whose dates, synthetic label and attributions come from the layers shown."""
    updates = [layer.latest_update for layer in layers if layer.latest_update is not None]
    attributions = tuple(
        dict.fromkeys(layer.spec.attribution for layer in layers if layer.spec.attribution)
    )
    return MapFrame(
        title=title,
        lines=tuple(lines),
        facts=tuple(facts),
        latest_update=max(updates, default=None),
        synthetic=any(layer.synthetic for layer in layers),
        attributions=attributions,
        hidden=tuple(hidden),
        hazards_hidden=hazards_title if hazards_title in hidden else None,
        download_href=download_href,
        alert=alert,
        alert_strong=alert_strong,
        shade=shade,
    )


def escape(text: object) -> str:
    """HTML-escaped, braces included (see the module docstring)."""
    return html.escape(str(text), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def braces_escaped(markup: str) -> str:
    """Rendered HTML made inert for branca's second Jinja pass (see the module docstring): braces
    as character references, which mean the same in HTML text and attributes. Only for markup with
    no <script> or <style> in it (the panels)."""
    return markup.replace("{", "&#123;").replace("}", "&#125;")


def panels_html(frame: MapFrame, layers: Sequence[LayerData]) -> str:
    """Title, legend, notice, the locate banner and the printed facts, from templates/panels.html
    (Jinja2, autoescaped: names from imported files stay text)."""
    dates = f"Data extracted {_when(frame.extracted_at)}"
    if frame.latest_update is not None:
        dates += f"; latest change {_when(frame.latest_update)}"
    markup = render(
        HERE / "templates",
        "panels.html",
        frame=frame,
        legend=[_legend_entry(layer) for layer in layers],
        shade=frame.shade
        and {
            "title": frame.shade.title,
            "definition": frame.shade.definition,
            "window": frame.shade.window,
            "no_data": frame.shade.no_data,
            "classes": [{"label": t, "colour": colour(c)} for t, c in frame.shade.classes],
        },
        not_safe=NOT_SAFE,
        synthetic=SYNTHETIC,
        other_hidden=[t for t in frame.hidden if t != frame.hazards_hidden],
        dates=dates,
    )
    return braces_escaped(markup)


def _legend_entry(layer: LayerData) -> dict[str, object]:
    """One entry per layer, and per value for layers coloured by a property (the spec's Style)."""
    style = layer.style or layer.spec.style
    entries = list(style.colors.items()) if style.color_by else [("", style.color)]
    return {
        "title": layer.title,
        "count": layer.count,
        "values_": [
            {
                "label": style.labels.get(value) or value.replace("_", " ") or layer.title,
                "colour": colour(hex_colour),
                "point": layer.spec.geometry_type == "Point",
                "shape": shape(style),
                "alpha": f"{round(style.fill_opacity * 255):02x}",
            }
            for value, hex_colour in entries
        ],
    }


def cluster_css(keys_colours: Sequence[tuple[str, str]]) -> str:
    """Cluster bubbles in their layer's colour, so clusters of different layers tell apart."""
    rules = []
    for key, hex_colour in keys_colours:
        c = colour(hex_colour)
        rules.append(
            f".sg-c-{key}{{background-color:{c}66}}"
            f".sg-c-{key} div{{background-color:{c}d9;color:#fff;font-weight:700}}"
        )
    return "".join(rules)


def script_json(value: object) -> str:
    """JSON that is safe inside a <script> element (no '<', '>' or '&' left unescaped)."""
    return script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def script_safe(json_text: str) -> str:
    """JSON text made inert inside <script> and inside a Jinja template (see the module docstring).

    These characters only occur inside JSON strings (a `{` of the structure is always followed by
    `"` or `}`), where the \\u escapes mean the same to JavaScript.
    """
    text = json_text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return _JINJA_OPEN.sub(r"\\u007b", text)


@functools.cache
def _own_files() -> tuple[str, str]:
    """map.css and the scripts, read once per process (every map build inlines them)."""
    css = (HERE / "map.css").read_text(encoding="utf-8")
    return css, "\n".join((HERE / name).read_text(encoding="utf-8") for name in SCRIPTS)


def own_head(extra_css: str = "") -> str:
    """SafeGround's own stylesheet and helper script (small: inlined in every map)."""
    css, js = _own_files()
    css += extra_css
    # An empty icon, or the browser fetches /favicon.ico: a request an offline file must not make.
    return f'<link rel="icon" href="data:,">\n<style>{css}</style>\n<script>{js}</script>'


class RawHtml(Element):
    """Pre-built, already escaped HTML, passed to a fixed template as a value (never as source)."""

    _template = Template("{{ this.html }}")

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.html = markup


class OwnMacro(MacroElement):
    """A MacroElement whose macros' output goes into the page as it is. Branca wraps each output
    in a new Element, compiling it as a Jinja template to render it once more: for a visit map's
    features (hundreds of kB of JSON) tens of milliseconds of every build, and a second pass over
    text that is already final."""

    def render(self, **kwargs: object) -> str:
        """Into the page's parts, as branca's does; nothing returned (branca's returns None)."""
        figure = self.get_root()
        assert isinstance(figure, Figure)  # as branca's: only a map in its page renders
        macros = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = macros.get(part)
            if macro is not None:  # less one trailing newline, as Jinja's second pass drops it
                text = str(macro(self, kwargs)).removesuffix("\n")
                getattr(figure, part).add_child(RawHtml(text), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)
        return ""


class LayerConfigs(OwnMacro):
    """The per-layer configuration map.js reads (colours, fields, labels), once in <head>."""

    _template = Template(
        "{% macro header(this, kwargs) %}"
        "<script>SG.define({{ this.configs }});</script>"
        "{% endmacro %}"
    )

    def __init__(self, configs: dict[str, dict[str, object]]) -> None:
        super().__init__()
        self._name = "LayerConfigs"
        self.configs = script_json(configs)


class Panels(OwnMacro):
    """The panels as page HTML, made Leaflet controls by map.js (placed for the screen's size),
    then the map framed on its area of interest clear of them; added last, it also marks the map
    ready once every layer above it has been added. `options` go to `SG.start` as JSON."""

    _template = Template(
        """{% macro html(this, kwargs) %}{{ this.markup }}{% endmacro %}
{% macro script(this, kwargs) %}
SG.panels({{ this._parent.get_name() }});
SG.start({{ this._parent.get_name() }}, {{ this.options }});
SG.ready({{ this._parent.get_name() }});
{% endmacro %}"""
    )

    def __init__(
        self, frame: MapFrame, layers: Sequence[LayerData], options: dict[str, object]
    ) -> None:
        super().__init__()
        self._name = "Panels"
        self.frame = frame
        self.markup = panels_html(frame, layers)
        self.options = script_json(options)


class GeoJsonText(OwnMacro):
    """The features PostgreSQL packed (data.collect), added to its parent L.geoJson by map.js,
    never parsed by Python. They travel as a JSON data block, which the HTML parser passes over
    and JSON.parse reads, rather than as a literal in the map's script: compiling a visit map's
    400 kB of literals was a tenth of the browser's work opening it."""

    _template = Template(
        "{% macro html(this, kwargs) %}"
        '<script type="application/json" id="{{ this.get_name() }}">{{ this.text }}</script>'
        "{% endmacro %}"
        "{% macro script(this, kwargs) %}"
        "SG.add({{ this._parent.get_name() }}, SG.data({{ this.id }}));"
        "{% endmacro %}"
    )

    def __init__(self, geojson: str) -> None:
        super().__init__()
        self._name = "GeoJsonText"
        self.text = script_safe(geojson)
        self.id = json.dumps(self.get_name())


class FitBounds(OwnMacro):
    """Frame the map on its data at once: no zoom animation, so clusters are computed once and the
    map is ready (and countable) when its scripts end."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.fitBounds({{ this.bounds }}, "
        "{animate: false, padding: [10, 10]});{% endmacro %}"
    )

    def __init__(self, bounds: tuple[float, float, float, float]) -> None:
        super().__init__()
        self._name = "FitBounds"
        minx, miny, maxx, maxy = bounds
        self.bounds = json.dumps([[miny, minx], [maxy, maxx]])


class Panes(OwnMacro):
    """The map's own panes (hazard areas above every symbol), made before any layer is added."""

    _template = Template(
        "{% macro script(this, kwargs) %}SG.panes({{ this._parent.get_name() }});{% endmacro %}"
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Panes"


class ZoomGate(OwnMacro):
    """Show `layer` only from `min_zoom` on."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "SG.gate({{ this._parent.get_name() }}, {{ this.layer.get_name() }}, {{ this.min_zoom }});"
        "{% endmacro %}"
    )

    def __init__(self, layer: Element, min_zoom: float) -> None:
        super().__init__()
        self._name = "ZoomGate"
        self.layer = layer
        self.min_zoom = json.dumps(float(min_zoom))


class TiledLayer(JSCSSMixin, Layer):
    """A layer drawn from the API's vector tiles by leaflet.vectorgrid (npm; see assets.py)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "var {{ this.get_name() }} = SG.tiled({{ this._parent.get_name() }}, {{ this.key }}, "
        "{{ this.url }}, {{ this.min_zoom }});{% endmacro %}"
    )
    default_js = [("vectorgrid", "npm:leaflet.vectorgrid")]

    def __init__(self, key: str, url: str, name: str, min_zoom: float = 0) -> None:
        # not added by folium: SG.tiled adds it once the map is framed (no tile fetched for the
        # provisional view), and a gated one only when zoomed in far enough
        super().__init__(name=name, overlay=True, control=True, show=False)
        self._name = "TiledLayer"
        self.key = script_json(key)
        self.url = script_json(url)
        self.min_zoom = json.dumps(float(min_zoom))
