"""What every map shows besides its layers: title, legend, the safety notice, the synthetic-data
label, extraction dates and attribution — as plain HTML panels, every text escaped here.

Beware: Folium (branca) renders a MacroElement's macros, then renders their output *again* as a
Jinja template. Text that reaches a macro could therefore run as a template on the server, so every
text is escaped here with its braces too (`escape`, `script_safe`), and `{{ 7*7 }}` stays braces.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from branca.element import Element, MacroElement
from folium.template import Template

from gis.maps.data import LayerData
from gis.spec import Style

HERE = Path(__file__).resolve().parent
NOT_SAFE = (
    "Areas with no hazard shown are not known to be safe. Hazard maps are incomplete: many "
    "incidents happen outside mapped hazard areas."
)
SYNTHETIC = (
    "Some records on this map are invented for the demo (source: synthetic demo); they are not "
    "real contamination or activity data."
)
# Marker shapes for the specs' icon names: CSS shapes, so maps need no icon font from a CDN.
SHAPES = {"school": "square", "gift": "diamond", "bullhorn": "triangle", "home": "dot"}
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
    )


def escape(text: object) -> str:
    """HTML-escaped, braces included (see the module docstring)."""
    return html.escape(str(text), quote=True).replace("{", "&#123;").replace("}", "&#125;")


_e = escape


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def title_html(frame: MapFrame) -> str:
    parts = [f'<div id="sg-title" class="sg-panel"><h1>{_e(frame.title)}</h1>']
    parts += [f'<p class="sg-muted">{_e(line)}</p>' for line in frame.lines]
    parts += [f"<p>{_e(fact)}</p>" for fact in frame.facts]
    if frame.download_href:
        parts.append(
            f'<p class="sg-download"><a href="{_e(frame.download_href)}" download>'
            "Download as one offline file</a></p>"
        )
    return "".join(parts) + "</div>"


def notice_html(frame: MapFrame) -> str:
    """The permanent notice: not closable, printed, and present even if a script fails."""
    parts = [
        '<div id="sg-notice" class="sg-panel sg-notice">'
        f'<p class="sg-warning">&#9888; {_e(NOT_SAFE)}</p>'
    ]
    if frame.alert:
        strong = " sg-alert-strong" if frame.alert_strong else ""
        parts.append(f'<p class="sg-warning sg-alert{strong}">{_e(frame.alert)}</p>')
    if frame.hazards_hidden:
        parts.append(
            f'<p class="sg-hidden">{_e(frame.hazards_hidden)} are NOT shown: your access does not '
            "include them. Ask for an API key before planning a visit.</p>"
        )
    other = [t for t in frame.hidden if t != frame.hazards_hidden]
    if other:
        parts.append(
            f'<p class="sg-muted">Not shown at your access level: {_e(", ".join(other))}.</p>'
        )
    if frame.synthetic:
        parts.append(
            f'<p><span class="sg-synthetic">Synthetic demo data</span> {_e(SYNTHETIC)}</p>'
        )
    dates = f"Data extracted {_when(frame.extracted_at)}"
    if frame.latest_update is not None:
        dates += f"; latest change {_when(frame.latest_update)}"
    parts.append(f'<p class="sg-muted">{_e(dates)}.</p>')
    if frame.attributions:
        parts.append(
            f'<div class="sg-attribution">{"<br>".join(_e(a) for a in frame.attributions)}</div>'
        )
    return "".join(parts) + "</div>"


def legend_html(layers: Sequence[LayerData]) -> str:
    """One entry per layer, and per value for layers coloured by a property (the spec's Style)."""
    parts = ['<div id="sg-legend" class="sg-panel sg-legend"><strong>Legend</strong>']
    for layer in layers:
        style = layer.style or layer.spec.style
        point = layer.spec.geometry_type == "Point"
        parts.append(f"<h2>{_e(layer.title)} ({layer.count:,})</h2><ul>")
        entries = list(style.colors.items()) if style.color_by else [("", style.color)]
        for value, hex_colour in entries:
            label = style.labels.get(value) or value.replace("_", " ") or layer.title
            parts.append(f"<li>{_swatch(style, colour(hex_colour), point)}{_e(label)}</li>")
        parts.append("</ul>")
    return "".join(parts) + "</div>"


def _swatch(style: Style, hex_colour: str, point: bool) -> str:
    if point:
        dot = f'<i style="background:{hex_colour}"></i>'
        return f'<span class="sg-m sg-shape-{shape(style)}">{dot}</span>'
    alpha = f"{round(style.fill_opacity * 255):02x}"
    css = f"border-color:{hex_colour};background:{hex_colour}{alpha}"
    return f'<span class="sg-swatch" style="{css}"></span>'


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


def own_head(extra_css: str = "") -> str:
    """SafeGround's own stylesheet and helper script (small: inlined in every map)."""
    css = (HERE / "map.css").read_text(encoding="utf-8") + extra_css
    js = (HERE / "map.js").read_text(encoding="utf-8")
    # An empty icon, or the browser fetches /favicon.ico: a request an offline file must not make.
    return f'<link rel="icon" href="data:,">\n<style>{css}</style>\n<script>{js}</script>'


class RawHtml(Element):
    """Pre-built, already escaped HTML, passed to a fixed template as a value (never as source)."""

    _template = Template("{{ this.html }}")

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "RawHtml"
        self.html = markup


class LayerConfigs(MacroElement):
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


class Panels(MacroElement):
    """The panels as page HTML, made Leaflet controls by map.js; added last, it also marks the map
    ready once every layer above it has been added."""

    _template = Template(
        """{% macro html(this, kwargs) %}{{ this.markup }}{% endmacro %}
{% macro script(this, kwargs) %}
SG.panel({{ this._parent.get_name() }}, "sg-title", "topleft", true);
L.control.scale({ imperial: false, maxWidth: 160 }).addTo({{ this._parent.get_name() }});
SG.panel({{ this._parent.get_name() }}, "sg-legend", "bottomleft", false);
SG.panel({{ this._parent.get_name() }}, "sg-notice", "bottomright", false);
SG.ready({{ this._parent.get_name() }});
{% endmacro %}"""
    )

    def __init__(self, frame: MapFrame, layers: Sequence[LayerData]) -> None:
        super().__init__()
        self._name = "Panels"
        self.frame = frame
        self.markup = title_html(frame) + legend_html(layers) + notice_html(frame)


class GeoJsonText(MacroElement):
    """The FeatureCollection text PostgreSQL built, added to its parent L.geoJson, never parsed
    by Python."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "{{ this._parent.get_name() }}.addData({{ this.text }});"
        "{% endmacro %}"
    )

    def __init__(self, geojson: str) -> None:
        super().__init__()
        self._name = "GeoJsonText"
        self.text = script_safe(geojson)


class FitBounds(MacroElement):
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
