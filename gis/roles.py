"""Which layer plays which part in the analyses and the maps, declared once and checked at startup.

The settings name the layers (SAFEGROUND_ANALYSIS_*_LAYER); `LayerRoles.from_settings` resolves
those names against the registry and refuses a name that is not a layer, or a layer of the wrong
geometry, so a misconfigured deployment stops at startup with a message instead of answering 500
on the first map.

They are built once per settings object: `create_app` keeps its own on the app state and the
routes pass it in; everything else asks `LayerRoles.of`, which builds a settings object's roles on
first use and hands back the same object after (settings are not changed once built).
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass

from gis.errors import ConfigurationError
from gis.settings import AnalysisSettings
from gis.spec import GeometryType, LayerSpec, Registry

# role -> (the setting naming its layer, the geometry the role needs, what the role is for)
_ROLES: dict[str, tuple[str, GeometryType, str]] = {
    "hazards": ("hazard_layer", "MultiPolygon", "the dangers"),
    "areas": ("area_layer", "MultiPolygon", "the districts results are summed up by"),
    "places": ("place_layer", "Point", "the places (coverage targets, ?village=)"),
    "activities": ("activity_layer", "Point", "what covers a place (risk education)"),
    "facilities": ("facility_layer", "Point", "the facilities a visit lists"),
}


@dataclass(frozen=True)
class LayerRoles:
    """The registry, and which of its layers holds the hazards, the districts, the places, the
    activities and the facilities; gis/ names no concrete layer, it asks this."""

    registry: Registry
    hazards: LayerSpec
    areas: LayerSpec
    places: LayerSpec
    activities: LayerSpec
    facilities: LayerSpec
    route_context: tuple[LayerSpec, ...]

    @classmethod
    def from_settings(cls, registry: Registry, settings: AnalysisSettings) -> LayerRoles:
        """The roles the settings declare; ConfigurationError naming the setting if one is wrong."""
        found: dict[str, LayerSpec] = {}
        for role, (setting, geometry, purpose) in _ROLES.items():
            name = getattr(settings, setting)
            found[role] = _layer(registry, name, setting, purpose)
            if found[role].geometry_type != geometry:
                raise ConfigurationError(
                    f"SAFEGROUND_ANALYSIS_{setting.upper()}='{name}' is a "
                    f"{found[role].geometry_type} layer; {purpose} must be a {geometry} layer"
                )
        areas = found["areas"]
        if not areas.code_field or not areas.name_fields:
            raise ConfigurationError(
                f"SAFEGROUND_ANALYSIS_AREA_LAYER='{areas.name}' declares no code_field and "
                "name_fields: districts are looked up by name or code"
            )
        context = tuple(
            _layer(registry, n, "route_context_layers", "listed along a route")
            for n in settings.route_context_layers
        )
        return cls(registry=registry, route_context=context, **found)

    @classmethod
    def of(cls, registry: Registry, settings: AnalysisSettings) -> LayerRoles:
        """The roles of these settings over this registry, built on the first call only."""
        with _LOCK:
            entry = _BUILT.get(id(settings))
            if entry is not None and entry[0]() is settings:
                for roles in entry[1]:
                    if roles.registry is registry:
                        return roles
        roles = cls.from_settings(registry, settings)  # may raise: nothing is kept then
        with _LOCK:
            entry = _BUILT.get(id(settings))
            if entry is None or entry[0]() is not settings:
                key = id(settings)
                entry = (weakref.ref(settings, functools.partial(_forget, key)), [])
                _BUILT[key] = entry
            entry[1].append(roles)
        return roles

    @classmethod
    def defaults(cls, registry: Registry) -> LayerRoles:
        """The roles of the settings' defaults (no environment read), for tests and tools."""
        return cls.of(registry, _DEFAULTS)


# id(settings) -> (a weak reference to the settings, the roles built from them): pydantic settings
# are not hashable, so they are keyed by identity, and forgotten when they are collected.
_BUILT: dict[int, tuple[weakref.ref[AnalysisSettings], list[LayerRoles]]] = {}
_LOCK = threading.RLock()  # re-entrant: a collection inside the lock runs _forget
_DEFAULTS = AnalysisSettings.model_construct()


def _forget(key: int, _gone: object = None) -> None:
    with _LOCK:
        entry = _BUILT.get(key)
        if entry is not None and entry[0]() is None:
            del _BUILT[key]


def _layer(registry: Registry, name: str, setting: str, purpose: str) -> LayerSpec:
    spec = registry.get(name)
    if spec is None:
        raise ConfigurationError(
            f"SAFEGROUND_ANALYSIS_{setting.upper()} names '{name}', which is not a layer "
            f"({purpose}); layers: {', '.join(registry)}"
        )
    return spec
