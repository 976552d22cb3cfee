"""Place search: accent-, case-, script- and typo-tolerant, ranked, in three languages."""

from __future__ import annotations

import pytest

from .ogc_support import Demo, demo_client_fixture, demo_fixture, sql_count  # noqa: F401


def hits(client, q: str, **params: str) -> list[dict]:
    response = client.get("/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["hits"]


@pytest.mark.parametrize("q", ["Quzanli", "quzanlı", "Кузанлы", "Quzanly", "QUZANLI"])
def test_every_spelling_finds_quzanli_first(demo_client, q: str) -> None:
    found = hits(demo_client, q)
    first = found[0]
    assert (first["layer"], first["name_az"]) == ("villages", "Quzanlı"), found[:4]
    assert first["name_ru"] == "Кузанлы" and first["district"] == "Aghdam"
    assert 46 < first["lon"] < 48 and 39 < first["lat"] < 41


def test_a_district_is_found_in_its_own_spellings(demo_client) -> None:
    for q in ("Ağdam", "Aghdam", "agdam", "Агдам"):
        found = [h for h in hits(demo_client, q) if h["layer"] == "districts"]
        assert found and found[0]["district_code"] == "AZ.AM", q


def test_labels_follow_the_language(demo_client) -> None:
    az = hits(demo_client, "Quzanlı", lang="az")[0]
    ru = hits(demo_client, "Quzanlı", lang="ru")[0]
    en = hits(demo_client, "Quzanlı", lang="en")[0]
    assert (az["label"], ru["label"], en["label"]) == ("Quzanlı", "Кузанлы", "Quzanlı")


def test_geojson_answer(demo_client) -> None:
    doc = demo_client.get("/search", params={"q": "Quzanli", "geojson": "true"}).json()
    assert doc["type"] == "FeatureCollection"
    first = doc["features"][0]
    assert first["geometry"]["type"] == "Point" and first["properties"]["name_az"] == "Quzanlı"


def test_an_ambiguous_name_lists_every_place_and_a_district_picks_one(
    demo: Demo, demo_client
) -> None:
    named = sql_count(
        demo,
        "SELECT count(*) FROM villages WHERE deleted_at IS NULL "
        "AND (name_az = 'Yenikənd' OR name = 'Yenikend' OR name_en = 'Yenikənd')",
    )
    found = [h for h in hits(demo_client, "Yenikənd", limit="100") if h["exact"]]
    assert len(found) == named >= 21
    assert all(h["district"] for h in found)
    # No Yenikənd lies in Aghdam; one lies in Aghstafa (AZ.AF), two in Gadabay.
    assert not [h for h in hits(demo_client, "Yenikənd", district="Aghdam") if h["exact"]]
    for district in ("Aghstafa", "Ağstafa", "AZ.AF"):
        picked = [h for h in hits(demo_client, "Yenikənd", district=district) if h["exact"]]
        assert [h["district"] for h in picked] == ["Aghstafa"], district


def test_hidden_layers_are_not_searched(demo_client) -> None:
    layers = {h["layer"] for h in hits(demo_client, "a", limit="100")}
    assert layers <= {"villages", "districts", "facilities"}


@pytest.mark.parametrize("bad", ["", "   ", "x" * 150])
def test_bad_queries_are_a_clear_400(demo_client, bad: str) -> None:
    response = demo_client.get("/search", params={"q": bad})
    assert response.status_code in (400, 422)


def test_the_visit_map_lists_every_yenikend_and_a_district_picks_one(demo_client) -> None:
    ambiguous = demo_client.get("/maps/visit", params={"village": "Yenikənd"})
    assert ambiguous.status_code == 400
    message = ambiguous.json()["description"]
    assert message.startswith("21 villages are named 'Yenikənd'")
    for district in ("Aghstafa", "Gadabey", "Tovuz", "Khojavend"):
        assert district in message
    picked = demo_client.get("/maps/visit", params={"village": "Yenikend", "district": "Aghstafa"})
    assert picked.status_code == 200 and "Aghstafa" in picked.text
    typo = demo_client.get("/maps/visit", params={"village": "Кузанлы"})
    assert typo.status_code == 200 and "Quzanlı" in typo.text
