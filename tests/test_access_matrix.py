"""Role × layer × output: hidden fields never appear anywhere, and an unreadable layer answers
exactly like one that does not exist."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import orjson
import pytest

from gis.spec import Role
from layers import REGISTRY

from .ogc_support import ROLES, Demo, demo_client_fixture, demo_fixture, headers  # noqa: F401

CASES = [(role, layer) for role in ROLES for layer in REGISTRY]


def case_id(case: tuple[Role, str]) -> str:
    return f"{case[0].name}-{case[1]}"


def hidden(layer: str, role: Role) -> set[str]:
    spec = REGISTRY[layer]
    return set(spec.output_fields) - set(spec.visible_fields(role))


def not_found_like_unknown(client, hdrs: dict[str, str], path: str, layer: str) -> None:
    mine = client.get(path.format(layer), headers=hdrs)
    unknown = client.get(path.format("no_such_layer"), headers=hdrs)
    assert mine.status_code == unknown.status_code == 404
    assert mine.json() == orjson.loads(unknown.content.replace(b"no_such_layer", layer.encode()))
    assert mine.headers.get("content-type") == unknown.headers.get("content-type")


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_no_hidden_field_in_any_output_and_unreadable_layers_look_absent(
    demo: Demo, demo_client, tmp_path: Path, case: tuple[Role, str]
) -> None:
    role, layer = case
    spec = REGISTRY[layer]
    hdrs = headers(demo, role)
    items = f"/collections/{layer}/items"
    if not spec.readable_by(role):
        for path in ("/collections/{}", "/collections/{}/items", "/collections/{}/items?f=csv",
                     "/collections/{}/items?f=gpkg", "/collections/{}/items?f=html",
                     "/collections/{}/queryables", "/collections/{}/items/1", "/collections/{}/items?bogus=1"):  # fmt: skip
            not_found_like_unknown(demo_client, hdrs, path, layer)
        listed = {
            c["id"] for c in demo_client.get("/collections", headers=hdrs).json()["collections"]
        }
        assert layer not in listed
        return
    secret = hidden(layer, role)
    visible = set(spec.visible_fields(role))

    features = demo_client.get(f"{items}?limit=20", headers=hdrs).json()["features"]
    assert features
    for feature in features:
        assert set(feature["properties"]) == visible | {"external_id", "source"}
    one = demo_client.get(f"{items}/{features[0]['id']}", headers=hdrs).json()
    assert not secret & set(one["properties"])

    table = demo_client.get(f"{items}?limit=20&f=csv&hxl=true", headers=hdrs).text
    header = next(csv.reader(io.StringIO(table)))
    assert not secret & set(header) and visible <= set(header)

    gpkg = tmp_path / "out.gpkg"
    gpkg.write_bytes(demo_client.get(f"{items}?limit=20&f=gpkg", headers=hdrs).content)
    with sqlite3.connect(gpkg) as db:
        columns = {row[1] for row in db.execute(f'PRAGMA table_info("{layer}")')}
    assert not secret & columns and visible <= columns

    page = demo_client.get(f"{items}?limit=20&f=html", headers=hdrs).text
    assert not any(f"<th>{name}</th>" in page for name in secret)

    schema = demo_client.get(f"/collections/{layer}/queryables", headers=hdrs).json()
    assert not secret & set(schema["properties"])

    for name in secret:
        refused = demo_client.get(f"{items}?{name}=1", headers=hdrs)
        unknown = demo_client.get(f"{items}?no_such_field=1", headers=hdrs)
        assert refused.status_code == unknown.status_code == 400
        assert refused.json()["description"] == unknown.json()["description"].replace(
            "no_such_field", name
        )
        assert demo_client.get(f"{items}?sortby={name}", headers=hdrs).status_code == 400


def test_staff_see_the_fields_partners_do_not(demo: Demo, demo_client) -> None:
    url = "/collections/distributions/items?limit=5"
    partner = demo_client.get(url, headers=headers(demo, Role.partner)).json()["features"][0][
        "properties"
    ]
    staff = demo_client.get(url, headers=headers(demo, Role.staff)).json()["features"][0][
        "properties"
    ]
    assert "households" not in partner and "households" in staff
