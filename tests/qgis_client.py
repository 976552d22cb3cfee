"""QGIS (Debian's python3-qgis, run headless by /usr/bin/python3, not the venv) reading a live
SafeGround: tests/test_tiles_qgis.py runs this file and reads the JSON it prints.

  qgis_client.py tiles BASE LAYER KEY Z ROW COL FIELDS   the vector tiles as a QgsVectorTileLayer
      (type=xyz), drawn over one tile's extent: per tile QGIS fetched, each feature's FIELDS
  qgis_client.py features BASE LAYER KEY W S E N          the OGC API Features collection as an
      OAPIF QgsVectorLayer: its fields, and the ids of the features in the lon/lat box

KEY may be '-' (no key). QGIS 3.22 cannot set a header here, so the key is the api_key parameter.
"""

from __future__ import annotations

import json
import sys

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFeatureRequest,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileBasicRendererStyle,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize

WORLD_M = 2 * 20037508.342789244
CLONES: list = []  # kept alive while QGIS draws with them


def _value(v: object) -> str | None:
    text = str(v)
    return None if v is None or text == "NULL" else text


class Collecting(QgsVectorTileBasicRenderer):
    """Draws nothing: keeps the features QGIS decoded, per tile. A basic renderer's styles decide
    which fields QGIS decodes (those their filters name), so one style per geometry names them."""

    def __init__(self, layer: str, fields: list[str], seen: dict | None = None) -> None:
        super().__init__()
        self.layer, self.fields = layer, fields
        self.seen: dict[str, list[dict[str, str | None]]] = {} if seen is None else seen
        styles = []
        for geometry in (
            QgsWkbTypes.PointGeometry,
            QgsWkbTypes.LineGeometry,
            QgsWkbTypes.PolygonGeometry,
        ):
            style = QgsVectorTileBasicRendererStyle(layer, layer, geometry)
            style.setFilterExpression(" OR ".join(f'"{f}" IS NULL' for f in fields) + " OR true")
            styles.append(style)
        self.setStyles(styles)

    def type(self) -> str:
        return "collecting"

    def clone(self) -> Collecting:
        # QGIS draws with a clone (and owns it): the clones share what they collect.
        twin = Collecting(self.layer, self.fields, self.seen)
        CLONES.append(twin)
        return twin

    def renderTile(self, tile, context) -> None:
        t = tile.id()
        found = self.seen.setdefault(f"{t.zoomLevel()}/{t.row()}/{t.column()}", [])
        for name in tile.layers():
            for feature in tile.layerFeatures(name):
                found.append({f.name(): _value(feature[f.name()]) for f in feature.fields()})


def tiles(base: str, layer: str, key: str, z: int, row: int, col: int, fields: str) -> dict:
    query = f"?api_key={key}" if key != "-" else ""
    url = f"{base}/collections/{layer}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}{query}"
    tiled = QgsVectorTileLayer(f"type=xyz&url={url}&zmin=0&zmax=22", layer)
    renderer = Collecting(layer, fields.split(","))
    tiled.setRenderer(renderer)
    size = WORLD_M / 2**z
    extent = QgsRectangle(
        -WORLD_M / 2 + col * size,
        WORLD_M / 2 - (row + 1) * size,
        -WORLD_M / 2 + (col + 1) * size,
        WORLD_M / 2 - row * size,
    )
    settings = QgsMapSettings()
    settings.setLayers([tiled])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setOutputSize(QSize(512, 512))
    settings.setExtent(extent.buffered(-size * 0.01))  # this tile's own area, not its neighbours'
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return {"valid": tiled.isValid(), "tiles": renderer.seen}


def features(base: str, layer: str, key: str, box: list[float]) -> dict:
    url = f"{base}/?api_key={key}" if key != "-" else base
    collection = QgsVectorLayer(f"url='{url}' typename='{layer}'", layer, "OAPIF")
    if not collection.isValid():
        return {"valid": False}  # (QGIS 3.22 crashes on an invalid OAPIF layer's error())
    request = QgsFeatureRequest().setFilterRect(QgsRectangle(*box))
    return {
        "valid": True,
        "fields": [f.name() for f in collection.fields()],
        "ids": [f.id() for f in collection.getFeatures(request)],
    }


def main(argv: list[str]) -> None:
    app = QgsApplication([], False)
    app.initQgis()
    command, base, layer, key, *rest = argv
    if command == "tiles":
        z, row, col = (int(v) for v in rest[:3])
        out = tiles(base, layer, key, z, row, col, rest[3])
    else:
        out = features(base, layer, key, [float(v) for v in rest])
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
