"""`lang=az|en|ru` on every map route and map command: place and district names in the chosen
language where a record has one, else Azerbaijani, with the names as recorded kept in the popup;
an unknown language refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app as cli
from tests import map_packed
from tests.browser.records import insert, point
from tests.test_maps import client, world
from tests.test_maps_pages import ROUTE, _configs

__all__ = ["client"]


@pytest.fixture
def named(client, committed):
    """A village of Alpha with all three names, one with only an Azerbaijani name."""
    with committed.begin() as conn:
        insert(
            conn, "villages", point(46.26, 40.24), name="Kuzanly", name_az="Quzanlı",
            name_en="Quzanli", name_ru="Кузанлы", district_name="Alpha",
        )  # fmt: skip
        insert(conn, "villages", point(46.24, 40.24), name="Akpermakhla", name_az="Əkbərməhlə")
    return client


def _villages(html: str) -> list[dict]:
    for feats in map_packed.in_page(html):
        if feats and "feature_code" in feats[0]["properties"]:
            return feats
    raise AssertionError("no village layer in the page")


@pytest.mark.parametrize(
    ("lang", "quzanli", "akpermakhla"),
    [
        ("az", "Quzanlı", "Əkbərməhlə"),
        ("en", "Quzanli", "Əkbərməhlə"),
        ("ru", "Кузанлы", "Əkbərməhlə"),
    ],
)
def test_visit_names_places_in_the_language_asked_falling_back_to_azerbaijani(
    named, lang, quzanli, akpermakhla
) -> None:
    page = named.get("/maps/visit", params={"village": "Alphaville", "lang": lang})
    assert page.status_code == 200, page.text
    found = {f["properties"]["name"]: f["properties"] for f in _villages(page.text)}
    assert found["Kuzanly"]["_n"] == quzanli and found["Akpermakhla"]["_n"] == akpermakhla
    # the popup keeps the names as recorded; another language comes first, named
    assert found["Kuzanly"]["name_az"] == "Quzanlı"
    config = _configs(page.text)["villages"]
    assert config["label"] == "_n" and config["placeLabel"] is True
    if lang == "az":
        assert "name_local" not in config["fields"]
    else:
        assert config["fields"][0] == "name_local" and found["Kuzanly"]["name_local"] == quzanli
        assert (
            config["labels"]["name_local"] == f"Name ({'English' if lang == 'en' else 'Russian'})"
        )


def test_visit_title_names_the_place_in_the_language_asked(named) -> None:
    russian = named.get("/maps/visit", params={"village": "Kuzanly", "lang": "ru"}).text
    assert "<title>Visit: Кузанлы" in russian
    default = named.get("/maps/visit", params={"village": "Kuzanly"}).text
    assert "<title>Visit: Quzanlı" in default


def test_hazard_labels_carry_status_and_distance(named) -> None:
    config = _configs(named.get("/maps/visit", params={"village": "Alphaville"}).text)
    assert config["hazard_areas"]["label"] == "distance"
    assert config["hazard_areas"]["labelBy"] == "_k"  # the status code: "confirmed · 1.1 km"


@pytest.mark.parametrize(
    "path",
    [
        "/maps/overview",
        "/maps/visit?village=Alphaville",
        "/maps/coverage?since=2024-01-01&until=2024-12-31",
    ],
)
def test_every_map_route_takes_lang_and_refuses_an_unknown_one(named, path) -> None:
    sep = "&" if "?" in path else "?"
    assert named.get(f"{path}{sep}lang=ru").status_code == 200
    bad = named.get(f"{path}{sep}lang=fr")
    assert bad.status_code == 400 and "lang" in bad.text
    assert named.post("/maps/visit?buffer_m=3000&lang=en", json=ROUTE).status_code == 200
    assert named.post("/maps/visit?buffer_m=3000&lang=xx", json=ROUTE).status_code == 400


def test_district_names_fall_back_from_russian_to_azerbaijani(named, committed) -> None:
    with committed.begin() as conn:
        conn.execute(sa.text("UPDATE districts SET name_az = 'Alfa' WHERE code = 'T.A'"))
    russian = named.get("/maps/overview", params={"lang": "ru"}).text
    # no Russian district names in the data: the Azerbaijani one
    assert "Alfa" in _names(russian)
    english = named.get("/maps/overview", params={"lang": "en"}).text
    # a district's English name is its `name` (Statoids)
    assert "Alpha" in _names(english)


def _names(html: str) -> set[str]:
    """The names the page labels its places with (`_n`), in every inline layer."""
    return {f["properties"].get("_n") for feats in map_packed.in_page(html) for f in feats}


def test_cli_map_commands_take_lang(settings, committed, tmp_path) -> None:
    with committed.begin() as conn:
        world(conn)
        insert(conn, "villages", point(46.26, 40.24), name="Kuzanly", name_ru="Кузанлы")
    env = {"SAFEGROUND_DATABASE_URL": settings.database.url}
    runner = CliRunner()
    out = tmp_path / "v.html"
    done = runner.invoke(
        cli, ["map", "visit", "--village", "Alphaville", "--lang", "ru", "--out", str(out)], env=env
    )
    assert done.exit_code == 0, done.output
    assert "Кузанлы" in out.read_text()
    bad = runner.invoke(cli, ["map", "overview", "--lang", "fr", "--out", str(out)], env=env)
    assert bad.exit_code == 1 and "lang must be one of az, en, ru" in bad.output
