"""Every numeric parameter of every route, out of range or not a number: a 400 that names the
parameter and the value it saw, never a 5xx.

The parameters come from the OpenAPI document (every query and path parameter whose schema is an
integer or a number), so a route added later is covered without a line here. Each is sent alone
among valid values for the others (`VALID`), as an admin, so nothing else about the request is
wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from gis.access import create_key
from gis.settings import AnalysisSettings, Settings
from gis.spec import Role

from .test_analysis_geo import add, blob

# Valid values for the parameters a request needs, by name (the rest are left out).
VALID: dict[str, str] = {
    "layer": "villages",
    "collectionId": "villages",
    "lon": "46.9",
    "lat": "40.0",
    "tileMatrixSetId": "WebMercatorQuad",
    "tileMatrix": "10",
    "tileRow": "390",
    "tileCol": "645",
    "id": "1",
    "q": "Aghdam",
}
# Parameters that exclude others: sent, they drop these.
EXCLUDES = {"village": ("lon", "lat")}
# A body for the routes that need one: a short line near the seeded village.
BODY = {"type": "LineString", "coordinates": [[46.9, 40.0], [46.95, 40.02]]}
HUGE = ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808"]
NOT_FINITE = ["NaN", "nan", "inf", "-inf", "Infinity", "1e309", "-1e309"]


@pytest.fixture
def client(settings: Settings, committed) -> Iterator[tuple[TestClient, str]]:
    with committed.begin() as conn:
        add(conn, "districts", blob(46.9, 40.0, 10_000.0, vertices=16), name="Aghdam", code="AZ.AM")
        add(conn, "villages", shapely.Point(46.9, 40.0), name="Somewhere", population=10)
        key = create_key(conn, "numbers", Role.admin)
    app = create_app(settings.model_copy(update={"analysis": AnalysisSettings(rasters={})}))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, key


def _kind(schema: dict[str, Any]) -> str | None:
    kinds = {schema.get("type")} | {o.get("type") for o in schema.get("anyOf", [])}
    return "integer" if "integer" in kinds else "number" if "number" in kinds else None


def numeric_parameters(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], str, str]]:
    """(method, path, operation, parameter name, integer or number) for every numeric query or
    path parameter."""
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for p in operation.get("parameters", []):
                kind = _kind(p.get("schema", {}))
                if p["in"] in ("query", "path") and kind:
                    found.append((method, path, operation, p["name"], kind))
    return found


def send(
    client: TestClient, key: str, method: str, path: str, operation: dict[str, Any], name: str,
    value: str,
) -> Any:  # fmt: skip
    params: dict[str, str] = {}
    dropped = EXCLUDES.get(name, ())
    for p in operation.get("parameters", []):
        given_value = value if p["name"] == name else VALID.get(p["name"])
        if given_value is None or p["name"] in dropped:
            continue
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", given_value)
        elif p["in"] == "query":
            params[p["name"]] = given_value
    body = BODY if "requestBody" in operation else None
    return client.request(
        method.upper(), path, params=params, json=body, headers={"X-API-Key": key}
    )


def _said(r: Any) -> str:
    """The problem's description (an RFC 7807-like JSON body), or nothing."""
    if "json" not in r.headers.get("content-type", ""):
        return ""
    return str(r.json().get("description", ""))


def test_the_document_declares_the_numeric_parameters_of_the_issue(client) -> None:
    c, _ = client
    names = {(path, name) for _, path, _, name, _ in numeric_parameters(c.get("/api").json())}
    for expected in [
        ("/analysis/within", "limit"),
        ("/analysis/nearest", "k"),
        ("/analysis/exposure", "within_m"),
        ("/collections/{collectionId}/items", "offset"),
    ]:
        assert expected in names
    assert any(name == "tileMatrix" for _, name in names)


def test_every_numeric_parameter_beyond_64_bits_or_not_finite_is_a_400_naming_it(client) -> None:
    c, key = client
    found = numeric_parameters(c.get("/api").json())
    assert len(found) >= 15
    wrong = []
    for method, path, operation, name, kind in found:
        # Beyond 64 bits is out of range for an integer; for a number it is finite, and whether
        # it is too large is the parameter's own rule (the next test).
        for value in (HUGE if kind == "integer" else []) + NOT_FINITE:
            r = send(c, key, method, path, operation, name, value)
            said = _said(r)
            if not (r.status_code == 400 and name in said and value in said):
                wrong.append((method, path, name, value, r.status_code, said[:200]))
    assert wrong == [], "\n".join(map(str, wrong))


def test_negative_and_fractional_values_never_give_a_5xx_and_a_refusal_names_the_parameter(
    client,
) -> None:
    c, key = client
    wrong = []
    for method, path, operation, name, _ in numeric_parameters(c.get("/api").json()):
        for value in ["-1", "-0.5", "-1e308", "1e308", "1.5", "0", *HUGE]:
            r = send(c, key, method, path, operation, name, value)
            said = _said(r) or r.text
            if r.status_code >= 500 or (400 <= r.status_code < 500 and name not in said):
                wrong.append((method, path, name, value, r.status_code, said[:200]))
    assert wrong == [], "\n".join(map(str, wrong))


# The client is only read: every drawn request is refused before it reaches a route.
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pick=st.integers(min_value=0),
    value=st.one_of(
        st.integers(min_value=2**63).map(str),
        st.integers(max_value=-(2**63) - 1).map(str),
        st.floats(allow_nan=True, allow_infinity=True)
        .filter(lambda v: v != v or v in (float("inf"), float("-inf")))
        .map(repr),
        st.integers(min_value=309, max_value=400).map(lambda e: f"1e{e}"),
    ),
)
def test_drawn_huge_or_non_finite_numbers_are_refused_with_their_name(
    client, pick: int, value: str
) -> None:
    c, key = client
    found = numeric_parameters(c.get("/api").json())
    method, path, operation, name, kind = found[pick % len(found)]
    if kind == "number" and value.lstrip("-").isdigit():
        value = "nan"  # a huge integer is a finite number: the strict rule is for integers
    r = send(c, key, method, path, operation, name, value)
    assert r.status_code == 400, r.text
    said = r.json()["description"]
    assert name in said and value[:57] in said


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/collections/villages/items", "limit"),  # a number or 'all', so a string in the document
        ("/analysis/coverage", "risk_within_m"),  # metres or 'none'
    ],
)
def test_parameters_that_are_numbers_or_a_word_refuse_huge_and_non_finite_values_by_name(
    client, path: str, name: str
) -> None:
    c, key = client
    wrong = []
    for value in HUGE + NOT_FINITE + ["-1", "1e308"]:
        r = c.get(path, params={name: value}, headers={"X-API-Key": key})
        said = _said(r)
        # A finite value too large is shown as the number it was read as (99,999,…,392 m).
        shown_value = value in said or (value not in NOT_FINITE and any(d.isdigit() for d in said))
        if not (r.status_code == 400 and name in said and shown_value):
            wrong.append((value, r.status_code, said))
    assert wrong == [], "\n".join(map(str, wrong))
