"""FastAPI dependencies as typed aliases: each request parameter parsed and checked once."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Header, Path, Query, Request

from safeground.gis.access import ANONYMOUS, Principal, principal_for
from safeground.gis.errors import NotFound
from safeground.gis.settings import Settings
from safeground.gis.spec import LayerSpec, Registry


def _engine(request: Request) -> sa.Engine:
    return request.app.state.engine


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _registry(request: Request) -> Registry:
    return request.app.state.registry


EngineDep = Annotated[sa.Engine, Depends(_engine)]
SettingsDep = Annotated[Settings, Depends(_settings)]
RegistryDep = Annotated[Registry, Depends(_registry)]


def _principal(
    engine: EngineDep,
    x_api_key: Annotated[str | None, Header(description="API key (or use the api_key parameter)")] = None,
    api_key: Annotated[str | None, Query(description="API key, for clients that cannot set headers")] = None,
) -> Principal:
    key = x_api_key or api_key
    if not key:
        return ANONYMOUS
    with engine.connect() as conn:
        return principal_for(conn, key)


PrincipalDep = Annotated[Principal, Depends(_principal)]


def layer_not_found(name: str) -> NotFound:
    # The same answer for a layer that does not exist and one the caller may not read.
    return NotFound(f"no collection '{name}'")


def _layer(
    registry: RegistryDep,
    principal: PrincipalDep,
    layer: Annotated[str, Path(description="Layer (collection) name, e.g. hazard_areas")],
) -> LayerSpec:
    spec = registry.get(layer)
    if spec is None or not spec.readable_by(principal.role):
        raise layer_not_found(layer)
    return spec


LayerDep = Annotated[LayerSpec, Depends(_layer)]
