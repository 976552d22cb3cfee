"""Synthetic demo records of single layers: one module per layer, found by the layer's name.

A module `demo/records/<layer>.py` defines `generate(world: DemoWorld) -> GeoDataFrame` (built
with `demo.reference.layer_frame`); `safeground demo load` adds what it returns to that layer. So
a new layer brings its own demo records and no other file of the demo changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from layers import REGISTRY


@dataclass(frozen=True)
class DemoWorld:
    """What a layer's generator may build on: the reference layers and the records so far."""

    villages: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    scale: str
    frames: Mapping[str, gpd.GeoDataFrame]  # every layer generated before this one
    seed: int = 20250901

    def rng(self, layer: str) -> np.random.Generator:
        """A generator of its own per layer: one layer's records never shift another's."""
        return np.random.default_rng([self.seed, zlib.crc32(layer.encode())])


Generate = Callable[[DemoWorld], gpd.GeoDataFrame]


def generators() -> dict[str, Generate]:
    """Each layer's generator, in registry order; a module named after no layer is an error."""
    found: dict[str, Generate] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name not in REGISTRY:
            raise ValueError(f"demo/records/{module.name}.py is named after no layer")
        found[module.name] = importlib.import_module(f"{__name__}.{module.name}").generate
    return {name: found[name] for name in REGISTRY if name in found}
