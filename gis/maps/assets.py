"""Leaflet and its plugins from the npm-installed `node_modules`: linked, or inlined offline.

Folium's defaults fetch Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, which fails in the
field (no network) and on a LAN without internet. Every resource a map needs comes from here
instead; a Folium element that asks for something not listed fails loudly rather than emit a CDN
link.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gis.errors import NotFound

# The project root's node_modules, where scripts/bootstrap.sh runs `npm ci`.
DEFAULT_NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


class MapSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAFEGROUND_MAPS_", extra="ignore")

    node_modules: Path = Field(
        default=DEFAULT_NODE_MODULES,
        description="Folder of the npm packages (package.json at the project root) of the maps.",
    )


@dataclass(frozen=True)
class Asset:
    path: str  # relative to node_modules
    kind: Literal["js", "css"]


# Folium's resource names (its elements' `default_js` / `default_css`) → the npm file replacing
# each. Versions are pinned by package-lock.json.
ASSETS: dict[str, Asset] = {
    "leaflet_css": Asset("leaflet/dist/leaflet.css", "css"),
    "leaflet": Asset("leaflet/dist/leaflet.js", "js"),
    "markerclustercss": Asset("leaflet.markercluster/dist/MarkerCluster.css", "css"),
    "markerclusterdefaultcss": Asset("leaflet.markercluster/dist/MarkerCluster.Default.css", "css"),
    "markerclusterjs": Asset("leaflet.markercluster/dist/leaflet.markercluster.js", "js"),
    "leaflet_measure_css": Asset("leaflet-measure/dist/leaflet-measure.css", "css"),
    "leaflet_measure_js": Asset("leaflet-measure/dist/leaflet-measure.js", "js"),
    # SafeGround's own needs (not Folium's): the locate button's geodesics, vector tiles.
    "geodesic": Asset("geographiclib-geodesic/geographiclib-geodesic.min.js", "js"),
    "vectorgrid": Asset("leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js", "js"),
}
# Folium's Map asks for these, but SafeGround's maps use none of them: markers are DivIcons and
# CircleMarkers (no icon font, no awesome-markers), panels plain HTML (no Bootstrap, no jQuery).
UNUSED = frozenset(
    {
        "jquery",
        "bootstrap",
        "awesome_markers",
        "bootstrap_css",
        "glyphicons_css",
        "awesome_markers_font_css",
        "awesome_markers_css",
        "awesome_rotate_css",
    }
)
# What the asset route may serve: the packages' dist folders, scripts, styles and their images.
SERVED_PREFIXES = (
    "leaflet/dist/",
    "leaflet.markercluster/dist/",
    "leaflet-measure/dist/",
    "geographiclib-geodesic/",
    "leaflet.vectorgrid/dist/",
    "swagger-ui-dist/",
)
SERVED_SUFFIXES = (".js", ".css", ".png", ".svg")

_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_SOURCE_MAP = re.compile(r"^\s*(//|/\*)# sourceMappingURL=.*$", re.MULTILINE)


class AssetsMissing(RuntimeError):
    """node_modules lacks a package: an installation problem, not a caller's mistake."""


@dataclass(frozen=True)
class MapAssets:
    """Where a map's scripts and styles come from: inlined (offline) or linked under `base_url`."""

    node_modules: Path
    inline: bool = False
    base_url: str = "assets"

    @classmethod
    def from_settings(
        cls, settings: MapSettings, inline: bool = False, base_url: str = "assets"
    ) -> MapAssets:
        return cls(settings.node_modules, inline, base_url)

    def check(self) -> None:
        for asset in ASSETS.values():
            if not (self.node_modules / asset.path).is_file():
                raise AssetsMissing(
                    f"map assets are not installed ({self.node_modules / asset.path} is missing): "
                    "run `make install` (npm ci) or set SAFEGROUND_MAPS_NODE_MODULES"
                )

    def head_html(self, names: list[str]) -> str:
        """`<link>`/`<script>` tags (or inline `<style>`/`<script>`) for Folium's resource names."""
        unknown = [n for n in names if n not in ASSETS and n not in UNUSED]
        if unknown:
            raise AssetsMissing(
                f"no npm asset for Folium resource(s) {unknown}: add them to ASSETS"
            )
        self.check()
        wanted = [ASSETS[n] for n in dict.fromkeys(names) if n in ASSETS]
        # Styles first, then scripts in Folium's order (Leaflet before its plugins).
        ordered = [a for a in wanted if a.kind == "css"] + [a for a in wanted if a.kind == "js"]
        return "\n".join([*(self._tag(a) for a in ordered), self._default_icon()])

    def _default_icon(self) -> str:
        """Point Leaflet's default marker (which plugins such as the measure tool create) at the
        packaged images: Leaflet would otherwise guess their URL from its stylesheet, which fails
        once the stylesheet is inlined."""
        images = "leaflet/dist/images/"
        if not self.inline:
            path = json.dumps(f"{self.base_url.rstrip('/')}/{images}")
            return f"<script>L.Icon.Default.imagePath = {path};</script>"
        urls = {
            option: _file_data_uri(self.node_modules / images / file)
            for option, file in (
                ("iconUrl", "marker-icon.png"),
                ("iconRetinaUrl", "marker-icon-2x.png"),
                ("shadowUrl", "marker-shadow.png"),
            )
        }
        merge = f"L.Icon.Default.mergeOptions({json.dumps(urls)});"
        return f'<script>L.Icon.Default.imagePath = "";{merge}</script>'

    def _tag(self, asset: Asset) -> str:
        if self.inline:
            text = _inlined(self.node_modules / asset.path)
            return f"<style>{text}</style>" if asset.kind == "css" else f"<script>{text}</script>"
        url = html.escape(f"{self.base_url.rstrip('/')}/{asset.path}", quote=True)
        if asset.kind == "css":
            return f'<link rel="stylesheet" href="{url}"/>'
        return f'<script src="{url}"></script>'


def served_file(node_modules: Path, path: str) -> Path:
    """The file behind `/maps/assets/{path}`: only the listed packages' dist files, nothing else."""
    if not path.startswith(SERVED_PREFIXES) or not path.endswith(SERVED_SUFFIXES) or ".." in path:
        raise NotFound(f"no map asset '{path}'")
    root = node_modules.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFound(f"no map asset '{path}'")
    return target


def media_type(path: Path) -> str:
    return {".js": "text/javascript", ".css": "text/css"}.get(path.suffix) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def _inlined(path: Path) -> str:
    stat = path.stat()
    return _inlined_cached(path, stat.st_mtime_ns, stat.st_size)


@cache
def _inlined_cached(path: Path, mtime_ns: int, size: int) -> str:
    """A script or stylesheet ready to sit inside an HTML element, its images as data: URIs.

    Cached per file version: the bundle is the same for every map a process builds.
    """
    text = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    if path.suffix == ".css":
        text = _CSS_URL.sub(lambda m: _data_uri(path.parent, m), text)
        return re.sub(r"</(style)", r"<\\/\1", text, flags=re.IGNORECASE)
    # "</script" inside the code would end the element early; "<\/" means the same to JavaScript.
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)


def _data_uri(folder: Path, match: re.Match[str]) -> str:
    ref = match.group(2)
    if ref.startswith(("data:", "#")):
        return match.group(0)
    target = (folder / ref).resolve()
    if not target.is_file():
        raise AssetsMissing(f"{folder}: stylesheet refers to a missing file {ref}")
    return f'url("{_file_data_uri(target)}")'


def _file_data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"
