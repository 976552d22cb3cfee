"""The layers SafeGround knows: every module of this package that declares a `SPEC`.

The modules are found and imported here, eagerly, when `layers` is first imported, so a broken or
misnamed layer stops startup rather than a request; adding a layer adds a module (and its
migration), never an edit here. The registry's order is each spec's `order`, then its name.
"""

from __future__ import annotations

import importlib
import pkgutil

from gis.spec import LayerSpec, Registry

# Sub-packages and modules that are not layers.
NOT_LAYERS = frozenset({"migrations"})


def _discover() -> Registry:
    specs: list[LayerSpec] = []
    for found in pkgutil.iter_modules(__path__):
        if found.name in NOT_LAYERS or found.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{found.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, LayerSpec):
            raise TypeError(f"layers/{found.name}.py declares no SPEC (a gis.spec.LayerSpec)")
        if spec.name != found.name:
            raise ValueError(f"layers/{found.name}.py declares the layer '{spec.name}'")
        specs.append(spec)
    return Registry(sorted(specs, key=lambda s: (s.order, s.name)))


REGISTRY = _discover()

__all__ = ["REGISTRY"]
