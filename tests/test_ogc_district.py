"""`district=` on every layer's items and exports (name or code, any spelling), and `sortby`."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from gis.spec import Role
from layers import REGISTRY

from .ogc_support import Demo, demo_client_fixture, demo_fixture, headers, sql_count  # noqa: F401

INSIDE = {
    "Point": "ST_Intersects(t.geom, d.geom)",
    "MultiPolygon": "t.geom && d.geom AND ST_Relate(t.geom, d.geom, 'T********')",
}


@pytest.mark.parametrize("layer", sorted(REGISTRY))
def test_district_filter_on_every_layer(demo: Demo, demo_client, layer: str) -> None:
    spec = REGISTRY[layer]
    expected = sql_count(
        demo,
        f"SELECT count(*) FROM {layer} t, districts d WHERE d.code = 'AZ.AM' "
        f"AND t.deleted_at IS NULL AND {INSIDE[spec.geometry_type]}",
    )
    key = headers(demo, Role.admin)
    for name in ("Aghdam", "AZ.AM", "Ağdam"):
        body = demo_client.get(
            f"/collections/{layer}/items", params={"district": name, "limit": "10000"}, headers=key
        ).json()
        assert body["numberReturned"] == expected, (layer, name)
    csv = demo_client.get(
        f"/collections/{layer}/items", params={"district": "AZ.AM", "f": "csv"}, headers=key
    )
    assert len(pd.read_csv(io.BytesIO(csv.content))) == expected


def test_unknown_district_is_a_400(demo_client) -> None:
    response = demo_client.get("/collections/villages/items", params={"district": "Atlantis"})
    assert response.status_code == 400 and "district" in response.json()["description"]


def test_villages_sort_by_population(demo_client) -> None:
    # Descending order puts unknown populations (NULL) first, as keyset paging needs; the filter
    # keeps the known ones.
    body = demo_client.get(
        "/collections/villages/items",
        params={"sortby": "-population", "limit": "20", "filter": "NOT population IS NULL"},
    ).json()
    populations = [f["properties"]["population"] for f in body["features"]]
    assert populations == sorted(populations, reverse=True) and populations[0] > 100_000
