"""The registry finds every layer module by itself, and the demo finds each layer's own records."""

from __future__ import annotations

import pkgutil
import sys
from pathlib import Path

import pytest

import layers
from demo.records import generators
from layers import REGISTRY


def test_every_layer_module_is_in_the_registry_in_its_declared_order() -> None:
    modules = {m.name for m in pkgutil.iter_modules(layers.__path__)} - layers.NOT_LAYERS
    assert set(REGISTRY) == modules
    specs = list(REGISTRY.values())
    assert specs == sorted(specs, key=lambda s: (s.order, s.name))
    assert specs[0].name == "hazard_areas" and specs[-1].name == "districts"


def test_a_layer_module_without_a_spec_stops_the_import(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "roads.py").write_text("TITLE = 'Roads'\n")
    monkeypatch.setattr(layers, "__path__", [str(tmp_path)])
    try:
        with pytest.raises(TypeError, match=r"layers/roads.py declares no SPEC"):
            layers._discover()
    finally:
        sys.modules.pop("layers.roads", None)


def test_a_layer_module_declaring_another_name_stops_the_import(
    tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "roads.py").write_text("from layers.villages import SPEC\n")
    monkeypatch.setattr(layers, "__path__", [str(tmp_path)])
    try:
        with pytest.raises(ValueError, match=r"layers/roads.py declares the layer 'villages'"):
            layers._discover()
    finally:
        sys.modules.pop("layers.roads", None)


def test_demo_record_modules_are_each_named_after_a_layer() -> None:
    assert set(generators()) <= set(REGISTRY)
