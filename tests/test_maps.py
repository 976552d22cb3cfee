"""Maps without a browser: the data PostgreSQL builds for them, access, filters, the Folium objects
and pages (layers, styles, legend, notice, assets), the routes and the command line."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pyproj import Geod
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli
from demo.synthetic import SOURCE as DEMO_SOURCE
from gis.access import create_key
from gis.areas import find_area
from gis.errors import InvalidParameter
from gis.maps import builders, data, folium_map
from gis.maps.assets import ASSETS, DEFAULT_NODE_MODULES, UNUSED, MapAssets
from gis.maps.configs import page_configs
from gis.maps.elements import NOT_SAFE, colour
from gis.notices import SYNTHETIC_MARK
from gis.spec import Role
from layers import REGISTRY
from tests import map_packed
from tests.browser.records import BRACES, XSS, insert, point, square

GEOD = Geod(ellps="WGS84")
LINKED = MapAssets(DEFAULT_NODE_MODULES, inline=False, base_url="assets")
OFFLINE = MapAssets(DEFAULT_NODE_MODULES, inline=True)


def world(conn: sa.Connection) -> dict[str, int]:
    """Two districts side by side, a village in each (and one name twice), hazards, activities."""
    ids = {
        "alpha": insert(conn, "districts", square(46.0, 40.0, 0.5), name="Alpha", code="T.A"),
        "beta": insert(conn, "districts", square(46.5, 40.0, 0.5), name="Beta", code="T.B"),
        "alphaville": insert(
            conn, "villages", point(46.25, 40.25), name="Alphaville", district_name="Alpha"
        ),
        "betatown": insert(
            conn, "villages", point(46.75, 40.25), name="Betatown", district_name="Beta"
        ),
        "twin_a": insert(conn, "villages", point(46.1, 40.1), name="Twin", district_name="Alpha"),
        "twin_b": insert(conn, "villages", point(46.9, 40.1), name="Twin", district_name="Beta"),
        # 0.01° north of Alphaville, recorded long ago: still a hazard today
        "h_old": insert(
            conn,
            "hazard_areas",
            square(46.25, 40.26, 0.01),
            hazard_type="AP_mine",
            status="confirmed",
            recorded_on=dt.date(2020, 1, 1),
        ),
        "h_beta": insert(
            conn,
            "hazard_areas",
            square(46.75, 40.3, 0.01),
            hazard_type="UXO_ERW",
            status="suspected",
            recorded_on=dt.date(2024, 2, 1),
            source=DEMO_SOURCE,
        ),
        "f_old": insert(
            conn,
            "facilities",
            point(46.2, 40.2),
            facility_type="school",
            name=f"School {BRACES}",
            rehabilitated_on=dt.date(2022, 5, 1),
            capacity=12345,
        ),
        "f_new": insert(
            conn,
            "facilities",
            point(46.3, 40.2),
            facility_type="kindergarten",
            name=XSS,
            rehabilitated_on=dt.date(2024, 6, 1),
        ),
        "s_near_old": insert(
            conn,
            "outreach_sessions",
            point(46.251, 40.25),
            held_on=dt.date(2023, 3, 1),
            place_name="Alphaville",
        ),
        "s_new": insert(
            conn,
            "outreach_sessions",
            point(46.26, 40.25),
            held_on=dt.date(2024, 9, 15),
            place_name="Alphaville east",
            participants_total=40,
        ),
        "s_beta": insert(
            conn, "outreach_sessions", point(46.75, 40.26), held_on=dt.date(2024, 9, 20)
        ),
        "d_alpha": insert(
            conn,
            "distributions",
            point(46.22, 40.22),
            distributed_on=dt.date(2024, 3, 1),
            item_category="hygiene",
            quantity=500.0,
            unit="kits",
            households=120,
        ),
    }
    return ids


def features(layer: data.LayerData) -> list[dict]:
    return map_packed.features(layer)


def by_key(selection: data.Selection) -> dict[str, data.LayerData]:
    return {layer.key: layer for layer in selection.layers}


def test_popup_values_are_readable_text_not_codes(conn) -> None:
    ids = world(conn)
    spec = REGISTRY["hazard_areas"]
    layer = data.collect(
        conn, spec, Role.staff, data.LOCAL, where=[spec.table.c.id == ids["h_old"]]
    )
    props = features(layer)[0]["properties"]
    assert props["status"] == "Confirmed hazardous area (CHA)" and props["_k"] == "confirmed"
    assert props["hazard_type"] == "AP mine" and props["recorded_on"] == "1 Jan 2020"
    assert props["status_changed_on"] is None  # shown as a dash by the page
    assert re.fullmatch(r"\d{1,3}(,\d{3})* m²", props["area_m2"])
    lons, lats = [46.25, 46.26, 46.26, 46.25], [40.26, 40.26, 40.27, 40.27]
    geodesic = abs(GEOD.polygon_area_perimeter(lons, lats)[0])
    assert int(props["area_m2"].removesuffix(" m²").replace(",", "")) == pytest.approx(
        geodesic, rel=0.002
    )
    assert layer.labels["area_m2"] == "Area" and layer.labels["recorded_on"] == "Recorded on"
    facility = data.collect(conn, REGISTRY["facilities"], Role.public, data.LOCAL)
    capacities = {f["properties"]["capacity"] for f in features(facility)}
    assert "12,345" in capacities


def test_overview_shows_only_layers_and_fields_the_role_may_read(conn) -> None:
    world(conn)
    public = data.overview(conn, REGISTRY, Role.public)
    assert set(by_key(public)) == {"districts", "villages", "facilities", "outreach_sessions"}
    assert {"Hazard areas", "Distributions"} <= set(public.hidden)
    partner = by_key(data.overview(conn, REGISTRY, Role.partner))
    assert "households" not in partner["distributions"].popup_fields
    assert "households" not in features(partner["distributions"])[0]["properties"]
    staff = by_key(data.overview(conn, REGISTRY, Role.staff))
    assert features(staff["distributions"])[0]["properties"]["households"] == "120"


def test_district_filter_limits_by_area_and_since_spares_hazard_areas(conn) -> None:
    ids = world(conn)
    alpha = find_area(conn, REGISTRY["districts"], "  ALPHA ")
    assert find_area(conn, REGISTRY["districts"], "t.a") == alpha
    layers = by_key(
        data.overview(conn, REGISTRY, Role.staff, district=alpha, since=dt.date(2024, 1, 1))
    )
    ids_of = {key: {f["id"] for f in features(layer)} for key, layer in layers.items()}
    assert ids_of["hazard_areas"] == {ids["h_old"]}  # recorded in 2020, still shown
    assert ids_of["facilities"] == {ids["f_new"]}
    assert ids_of["outreach_sessions"] == {ids["s_new"]}
    assert ids_of["districts"] == {
        ids["alpha"],
        ids["beta"],
    }  # the neighbour's outline, for context
    with pytest.raises(InvalidParameter, match="unknown district 'Alfa'.*did you mean Alpha"):
        find_area(conn, REGISTRY["districts"], "Alfa")


def test_a_dense_activity_layer_is_cut_to_its_most_recent_points_and_says_so(
    conn, monkeypatch
) -> None:
    ids = world(conn)
    monkeypatch.setattr(data, "MAX_POINTS", 2)
    page = builders.overview(conn, REGISTRY, Role.staff)
    layers = by_key(data.overview(conn, REGISTRY, Role.staff))
    sessions = layers["outreach_sessions"]
    assert sessions.truncated and {f["id"] for f in features(sessions)} == {
        ids["s_beta"],
        ids["s_new"],
    }
    assert (
        layers["villages"].count == 4 and not layers["villages"].truncated
    )  # reference: never cut
    html = folium_map.render(page.map, LINKED)
    assert "Risk-education sessions: only the 2 most recent are drawn" in html


def test_visit_distances_are_geodesic_and_the_last_session_is_the_latest(conn) -> None:
    ids = world(conn)
    page = builders.visit(
        conn, REGISTRY, Role.partner, village=str(ids["alphaville"]), radius_m=3000
    )
    html = folium_map.render(page.map, LINKED)
    assert page.counts["hazard_areas"] == 1 and page.counts["outreach_sessions"] == 2
    assert page.counts["outreach_sessions_last"] == 1
    south_edge_m = GEOD.inv(46.25, 40.25, 46.25, 40.26)[2]  # the hazard lies due north
    assert f"the nearest of those is {south_edge_m / 1000:.1f} km away" in html
    assert "Last risk-education session within reach: 15 Sep 2024 at Alphaville east" in html
    found = builders.nearby.visit(
        conn, REGISTRY, Role.partner, builders.nearby.Place(46.25, 40.25), 3000
    )
    assert found.nearest_active_m == pytest.approx(south_edge_m, abs=1.0)
    assert found.last_session is not None and found.last_session.held_on == dt.date(2024, 9, 15)
    assert "Visit: Alphaville (Alpha)" in html and "40.25000° N, 46.25000° E" in html


def test_map_page_has_layers_legend_notice_and_no_cdn(conn) -> None:
    world(conn)
    page = builders.overview(conn, REGISTRY, Role.staff, download_href="?offline=true")
    tree = json.dumps(page.map.to_dict())
    for kind in ("GeoJson", "LayerControl", "TileLayer", "Panels", "LayerConfigs", "GeoJsonText"):
        assert f'"name": "{kind}"' in tree
    html = folium_map.render(page.map, LINKED)
    hazard_style = REGISTRY["hazard_areas"].style
    for status, label in hazard_style.labels.items():
        assert label in html and f"border-color:{hazard_style.colors[status]}" in html
    assert NOT_SAFE in html and "Synthetic demo data" in html and "Who&#39;s On First" in html
    assert "Data extracted" in html and "Download as one offline file" in html
    assert '<script src="assets/leaflet/dist/leaflet.js"></script>' in html
    assert '<script src="assets/leaflet.markercluster' not in html  # nothing here is dense enough
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    configs = page_configs(builders.data.overview(conn, REGISTRY, Role.staff).layers)
    assert configs["hazard_areas"]["colors"]["confirmed"] == "#d7191c"
    assert configs["facilities"]["shape"] == "square" and configs["facilities"]["tip"] == "name"


def test_synthetic_label_only_when_a_shown_layer_holds_synthetic_records(conn) -> None:
    world(conn)  # only the Beta hazard is synthetic, and the public does not see hazard areas
    html = folium_map.render(builders.overview(conn, REGISTRY, Role.public).map, LINKED)
    assert "Synthetic demo data" not in html
    assert "Hazard areas are NOT shown: your access does not include them" in html


def test_offline_page_is_one_self_contained_file(conn) -> None:
    world(conn)
    html = folium_map.render(builders.overview(conn, REGISTRY, Role.staff).map, OFFLINE)
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=(?!\"data:)", html)
    assert 'L.Icon.Default.imagePath = ""' in html and "data:image/png;base64," in html
    assert "sourceMappingURL" not in html


def test_names_from_the_data_never_become_markup_or_template(conn) -> None:
    ids = world(conn)
    insert(conn, "districts", square(47.0, 40.0, 0.1), name=XSS, code="T.X")
    html = folium_map.render(
        builders.overview(conn, REGISTRY, Role.public, district="t.x").map, OFFLINE
    )
    assert "<img src=x" not in html  # in titles escaped, in data \u003c-escaped JSON
    assert "<title>SafeGround overview: &lt;img src=x onerror=alert(1)&gt;</title>" in html
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in html
    # Folium renders macro output again as a Jinja template: braces from the data must stay text
    # (a name is never evaluated on the server), in the data and in the panels alike.
    insert(
        conn,
        "districts",
        square(47.2, 40.0, 0.1),
        name=f"Bad {BRACES} {{% if 1 %}}x{{% endif %}}",
        code="T.B2",
    )
    braces = folium_map.render(
        builders.overview(conn, REGISTRY, Role.public, district="T.B2").map, LINKED
    )
    assert "Bad &#123;&#123; 7*7 &#125;&#125; &#123;% if 1 %&#125;x&#123;% endif %&#125;" in braces
    national = folium_map.render(builders.overview(conn, REGISTRY, Role.public).map, LINKED)
    assert "School 49" not in national and "School \\u007b{ 7*7 }}" in national and ids["f_old"]


def test_coverage_hook_draws_uncovered_targets_prominently(conn) -> None:
    world(conn)
    villages = REGISTRY["villages"]

    def targets(covered: bool) -> data.LayerData:
        flag = data.Extra("covered", "Covered", sa.literal(covered))
        where = [villages.table.c.name == ("Betatown" if covered else "Alphaville")]
        return data.collect(conn, villages, Role.staff, data.LOCAL, where=where, extra=[flag])

    context = data.overview(conn, REGISTRY, Role.staff).layers[:2]
    frame = builders.frame_for(context, "Coverage", facts=["1 of 2 villages not covered"])
    m = folium_map.coverage_map(targets(False), targets(True), context, frame, rings_m=[5000])
    html = folium_map.render(m, LINKED)
    assert "1 of 2 villages not covered" in html
    legend = html[html.index('id="sg-legend"') :]
    # uncovered a magenta ring, covered a muted blue: neither in the hazard palette
    assert "#ff00ff" in legend and "#8c96c6" in legend and "sg-shape-ring" in legend
    assert '"rings":[5000.0]' in html and '"sizeBy":"population"' in html
    assert '"villages_uncovered"' in html and '"emphasis":true' in html


def test_constants_shared_with_layers_and_demo_agree() -> None:
    assert SYNTHETIC_MARK in DEMO_SOURCE  # the one rule (gis/notices.py) labels the demo
    for spec in REGISTRY.values():
        colour(spec.style.color)
        for value in spec.style.colors.values():
            colour(value)
    import folium
    from folium.plugins import MarkerCluster, MeasureControl

    for element in (folium.Map, MarkerCluster, MeasureControl):
        names = {name for name, _ in (*element.default_js, *element.default_css)}
        assert names <= set(ASSETS) | UNUSED
    for asset in ASSETS.values():
        assert (DEFAULT_NODE_MODULES / asset.path).is_file(), "run `npm ci` (scripts/bootstrap.sh)"


@pytest.fixture
def client(settings, committed):
    with committed.begin() as conn:
        world(conn)
        key = create_key(conn, "map tests", Role.partner)
    with TestClient(create_app(settings)) as client:
        client.headers["X-API-Key"] = key
        yield client


def test_map_routes_answer_html_and_offline_downloads(client) -> None:
    index = client.get("/maps")
    assert index.status_code == 200 and "maps/overview" in index.text
    page = client.get("/maps/overview", params={"district": "Alpha", "since": "2024-01-01"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "SafeGround overview: Alpha" in page.text and "Download as one offline file" in page.text
    offline = client.get("/maps/visit", params={"village": "alphaville", "offline": "true"})
    assert offline.status_code == 200
    assert offline.headers["content-disposition"] == 'attachment; filename="safeground-visit.html"'
    assert not re.search(r"<script[^>]+src=", offline.text)
    assert (
        client.get("/maps/visit", params={"lon": 46.25, "lat": 40.25, "radius_m": 500}).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"district": "Nowhere"}, 400, "unknown district 'Nowhere'"),
        ({"since": "2024-13-01"}, 400, "since"),
    ],
)
def test_overview_bad_parameters_are_4xx(client, params, status, says) -> None:
    response = client.get("/maps/overview", params=params)
    assert response.status_code == status and says in response.json()["description"]


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({}, 400, "give a village"),
        ({"village": "Alphaville", "lon": 46.2, "lat": 40.2}, 400, "not both"),
        ({"lon": 46.2}, 400, "give a village"),
        ({"village": "Atlantis"}, 404, "no village 'Atlantis'"),
        ({"village": "twin"}, 400, "2 villages are named 'twin'"),
        ({"village": "Alphaville", "radius_m": 10}, 400, "radius_m"),
        ({"lon": 200, "lat": 40}, 400, "lon"),
    ],
)
def test_visit_bad_parameters_are_4xx(client, params, status, says) -> None:
    response = client.get("/maps/visit", params=params)
    assert response.status_code == status and says in response.json()["description"]


def test_asset_route_serves_the_packages_dist_files_only(client) -> None:
    script = client.get("/maps/assets/leaflet/dist/leaflet.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    assert (
        client.get("/maps/assets/leaflet/dist/images/layers.png").headers["content-type"]
        == "image/png"
    )
    for path in (
        "leaflet/dist/../package.json",
        "lodash/lodash.js",
        "leaflet/dist/%2e%2e/package.json",
    ):
        assert client.get(f"/maps/assets/{path}").status_code == 404


def test_cli_writes_overview_and_visit_files(settings, committed, tmp_path) -> None:
    with committed.begin() as conn:
        world(conn)
    env = {"SAFEGROUND_DATABASE_URL": settings.database.url}
    runner = CliRunner()
    out = tmp_path / "overview.html"
    done = runner.invoke(cli, ["map", "overview", "--out", str(out), "--offline"], env=env)
    assert done.exit_code == 0, done.output
    assert "Hazard areas (2)" in out.read_text() and "<script src" not in out.read_text()
    visit = runner.invoke(
        cli, ["map", "visit", "--village", "Betatown", "--out", str(tmp_path / "v.html")], env=env
    )
    written = (tmp_path / "v.html").read_text()
    # without --offline too: one file that still works once moved (nothing from node_modules)
    assert visit.exit_code == 0 and "file://" not in written and "<script src" not in written
    bad = runner.invoke(
        cli, ["map", "overview", "--district", "Nowhere", "--out", str(out)], env=env
    )
    assert bad.exit_code == 1 and "unknown district 'Nowhere'" in bad.output


def test_activity_colours_stay_out_of_the_hazard_palette() -> None:
    """A cluster of sessions or distributions must never be read as a hazard or as cleared land."""
    hazard = {c.lower() for c in REGISTRY["hazard_areas"].style.colors.values()}
    for name in ("facilities", "distributions", "outreach_sessions"):
        style = REGISTRY[name].style
        used = {style.color.lower(), *(c.lower() for c in style.colors.values())}
        assert not used & hazard, name
        for c in used:
            r, g, b = (int(c[i : i + 2], 16) for i in (1, 3, 5))
            assert not (g > r + 40 and g > b + 40), f"{name} uses a green ({c}) like released land"
            assert not (r > 180 and g < 150 and b < 90), (
                f"{name} uses a red/orange ({c}) like a hazard"
            )


def test_a_map_with_place_names_draws_its_polygons_as_svg_never_on_a_canvas(
    client, monkeypatch
) -> None:
    """Place names are kept clear of hazard areas by reading the drawn SVG paths; on a canvas
    they could not be, so a labelled map never uses one, however many polygons it draws."""
    from gis.maps import folium_map

    monkeypatch.setattr(folium_map, "CANVAS_ABOVE", 0)  # every polygon layer counts as big
    overview = client.get("/maps/overview", params={"offline": "true"})
    assert overview.status_code == 200 and "SG.canvas(" in overview.text
    visit = client.get("/maps/visit", params={"village": "alphaville", "offline": "true"})
    assert visit.status_code == 200, visit.text
    assert '"placeLabel": true' in visit.text or '"placeLabel":true' in visit.text
    assert "SG.canvas(" not in visit.text
