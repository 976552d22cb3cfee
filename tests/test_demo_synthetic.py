"""The demo data without a database: reference readers, documented events, synthetic records.

These frames are what the importer receives, so the tests hold them to the layer contract
(columns, types, ids, sources) and to the plausibility the demo promises (where hazards and
activities fall, the public aggregates, coverage a planner can act on).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from demo import synthetic
from demo.documented import documented_events
from demo.reference import ABANDONED, read_districts, read_villages
from layers import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CORE: tuple[str, ...] = ("AZ.AM", "AZ.FU", "AZ.CB", "AZ.ZG", "AZ.QD", "AZ.LC", "AZ.KA", "AZ.XD")
CORE += ("AZ.XC", "AZ.SU", "AZ.SS", "AZ.XA", "AZ.TA")  # Shusha rayon and city, Khankendi, Tartar
NEIGHBOURS = ("AZ.AC", "AZ.BQ", "AZ.GR", "AZ.BR", "AZ.AF", "AZ.QZ", "AZ.TO", "AZ.GD")
ACTIVITIES = {
    "facilities": "rehabilitated_on",
    "distributions": "distributed_on",
    "outreach_sessions": "held_on",
}
# The district of each CSV row (Gadabey, Aghstafa ×2, Aghdam ×3, Barda, Terter).
CSV_DISTRICTS = dict(
    enumerate(("AZ.GD", "AZ.AF", "AZ.AF", "AZ.AM", "AZ.AM", "AZ.AM", "AZ.BR", "AZ.TA"), start=1)
)
FIRST, LAST = dt.date(2021, 1, 1), dt.date(2025, 12, 31)
UTM = "EPSG:32638"


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return read_districts(DATA / "azerbaijan" / "aze_adm1_districts.geojson")


@pytest.fixture(scope="module")
def villages() -> gpd.GeoDataFrame:
    return read_villages(DATA / "azerbaijan" / "aze_places.geojson")


@pytest.fixture(scope="module")
def national(villages, districts) -> dict[str, gpd.GeoDataFrame]:
    return synthetic.generate(villages, districts, "national")


@pytest.fixture(scope="module")
def documented(villages, districts) -> dict[str, gpd.GeoDataFrame]:
    return documented_events(DATA / "documented_events.csv", villages, districts)


def _years(dates: pd.Series) -> pd.Series:
    return dates.map(lambda d: d.year)


# --- reference layers --------------------------------------------------------------------------


def test_reference_layers_follow_the_layer_contract(districts, villages):
    assert len(districts) == 78 and districts["code"].is_unique
    assert set(districts.geom_type) == {"MultiPolygon"} and districts.is_valid.all()
    assert districts["external_id"].str.startswith("wof:").all()
    assert districts["population_1999"].dtype == "Int64"
    assert districts.loc[districts["code"] == "AZ.SS", "iso_code"].tolist() == [None]
    assert len(villages) == 5012 and villages["external_id"].is_unique
    assert villages["external_id"].str.startswith("geonames:").all()
    assert set(villages.geom_type) == {"Point"}
    for layer, frame in (("districts", districts), ("villages", villages)):
        assert list(frame.columns) == [
            "external_id",
            *REGISTRY[layer].property_names,
            "source",
            "geometry",
        ]
        assert frame.crs.to_epsg() == 4326


# --- synthetic records -------------------------------------------------------------------------


def test_generation_is_deterministic(villages, districts, national):
    again = synthetic.generate(villages, districts, "national")
    for layer, frame in national.items():
        pd.testing.assert_frame_equal(
            frame.drop(columns="geometry"), again[layer].drop(columns="geometry")
        )
        assert (frame.geometry.to_wkb() == again[layer].geometry.to_wkb()).all()
    other = synthetic.generate(villages, districts, "national", seed=1)
    assert not other["hazard_areas"].geometry.geom_equals(national["hazard_areas"].geometry).all()


def test_unknown_scale_is_refused(villages, districts):
    with pytest.raises(ValueError, match="unknown scale"):
        synthetic.generate(villages, districts, "galactic")


def test_frames_have_exactly_the_layer_columns_unique_ids_and_the_synthetic_source(national):
    assert set(national) == {"hazard_areas", "facilities", "distributions", "outreach_sessions"}
    for layer, frame in national.items():
        spec = REGISTRY[layer]
        assert list(frame.columns) == ["external_id", *spec.property_names, "source", "geometry"]
        assert frame.crs.to_epsg() == 4326
        assert frame["external_id"].is_unique
        assert frame["external_id"].str.startswith(f"synthetic:{layer}:").all()
        assert (frame["source"] == "synthetic demo").all()
        assert set(frame.geom_type) == {spec.geometry_type}


def test_every_record_validates_against_its_layer_model(national):
    for layer, frame in national.items():
        model = REGISTRY[layer].properties
        for record in (
            frame.drop(columns=["external_id", "source", "geometry"]).head(300).to_dict("records")
        ):
            model.model_validate({k: (None if v is pd.NA else v) for k, v in record.items()})


def test_dates_fall_in_2021_to_2025_and_are_plain_dates(national):
    hazards = national["hazard_areas"]
    for layer, field in [("hazard_areas", "recorded_on"), *ACTIVITIES.items()]:
        dates = national[layer][field]
        assert all(type(d) is dt.date for d in dates)
        assert dates.min() >= FIRST and dates.max() <= LAST
    changed = hazards.dropna(subset=["status_changed_on"])
    assert (changed["status_changed_on"] >= changed["recorded_on"]).all()
    assert (changed["status_changed_on"] <= LAST).all()
    assert hazards.loc[hazards["status"] == "suspected", "status_changed_on"].isna().all()
    assert (
        hazards.loc[
            hazards["status"].isin(["cleared", "cancelled", "reduced"]), "status_changed_on"
        ]
        .notna()
        .all()
    )


def test_hazard_polygons_are_valid_sized_and_in_the_contaminated_districts(national, districts):
    hazards = national["hazard_areas"]
    assert len(hazards) == 2_500
    assert set(hazards.geom_type) == {"MultiPolygon"} and hazards.is_valid.all()
    by_code = districts.set_index("code").geometry
    listed = shapely.union_all(by_code[[*CORE, *NEIGHBOURS]].values)
    outside = shapely.area(shapely.difference(hazards.geometry.values, listed))
    assert (outside <= 1e-9 * np.maximum(1.0, shapely.area(hazards.geometry.values))).all()
    in_core = shapely.contains(
        shapely.union_all(by_code[list(CORE)].values), hazards.representative_point().values
    )
    assert in_core.mean() >= 0.90
    hectares = hazards.to_crs("EPSG:6933").area / 10_000  # equal-area projection
    assert hectares.min() >= 0.3 and hectares.max() <= 320
    assert 3 <= hectares.median() <= 20  # skewed: most small, a few large
    mix = hazards["hazard_type"].value_counts(normalize=True)
    assert mix[["AP_mine", "AT_mine", "mixed"]].sum() > 0.35 and mix["UXO_ERW"] > 0.1
    assert hazards["status"].isin(["suspected", "confirmed"]).mean() > 0.6


def test_national_scale_matches_the_public_aggregates(national):
    facilities = national["facilities"]
    early = facilities[_years(facilities["rehabilitated_on"]).between(2021, 2023)]
    assert (early["facility_type"] == "school").sum() == 25
    # Five synthetic kindergartens; the sixth is the documented one of 2022 (see documented.py).
    assert (early["facility_type"] == "kindergarten").sum() == 5
    sessions = national["outreach_sessions"]
    reached = sessions.loc[_years(sessions["held_on"]).between(2022, 2025), "participants_total"]
    assert 85_000 <= reached.sum() <= 115_000
    assert 3_500 <= len(sessions) <= 4_500
    assert 300 <= len(national["distributions"]) <= 500


def test_session_participants_add_up_and_fit_the_audience(national):
    s = national["outreach_sessions"]
    parts = s[["girls", "boys", "women", "men"]]
    assert (parts >= 0).all().all()
    assert (parts.sum(axis=1) == s["participants_total"]).all() and (
        s["participants_total"] > 0
    ).all()
    children = s["audience"].isin(["children", "adolescents"])
    assert (s.loc[children, ["women", "men"]].sum(axis=1) == 0).all()
    assert (s.loc[s["audience"] == "adults", ["girls", "boys"]].sum(axis=1) == 0).all()
    d = national["distributions"]
    assert (d["beneficiaries"] >= 3 * d["households"]).all() and (d["quantity"] >= 0).all()


def test_activities_sit_next_to_lived_in_villages_and_never_inside_a_hazard(national, villages):
    hazards = shapely.STRtree(national["hazard_areas"].geometry.values)
    lived_in = villages[~villages["feature_code"].isin(ABANDONED)].to_crs(UTM)
    for layer in ACTIVITIES:
        points = national[layer]
        assert len(hazards.query(points.geometry.values, predicate="within")[0]) == 0
        nearest = gpd.sjoin_nearest(points.to_crs(UTM), lived_in, distance_col="m")
        assert nearest["m"].max() <= 810


def test_about_half_the_villages_at_risk_had_risk_education_in_2025(national, villages):
    hazards = national["hazard_areas"]
    active = hazards[hazards["status"].isin(["suspected", "confirmed"])].to_crs(UTM)
    lived_in = villages[~villages["feature_code"].isin(ABANDONED)].to_crs(UTM)
    near = shapely.STRtree(active.geometry.values).query(
        lived_in.geometry.values, predicate="dwithin", distance=5_000
    )
    at_risk = lived_in.iloc[np.unique(near[0])]
    sessions = national["outreach_sessions"]
    recent = sessions[_years(sessions["held_on"]) == 2025].to_crs(UTM)
    reached = shapely.STRtree(recent.geometry.values).query(
        at_risk.geometry.values, predicate="dwithin", distance=1_000
    )
    share = len(np.unique(reached[0])) / len(at_risk)
    assert len(at_risk) > 500 and 0.5 <= share <= 0.7


def test_large_scale_generates_the_sizes_it_promises(villages, districts):
    # How long it takes is bench/'s business, not a test's: the machine decides that.
    large = synthetic.generate(villages, districts, "large")
    assert len(large["hazard_areas"]) == 20_000 and len(large["outreach_sessions"]) == 100_000
    assert 1_500 <= len(large["distributions"]) <= 2_500 and 250 <= len(large["facilities"]) <= 350
    assert large["hazard_areas"].is_valid.all()


# --- documented events -------------------------------------------------------------------------


def test_documented_events_are_eight_geocoded_records_that_say_how(documented):
    assert {k: len(v) for k, v in documented.items()} == {
        "facilities": 3,
        "distributions": 3,
        "outreach_sessions": 2,
    }
    everything = pd.concat([f[["external_id", "notes", "source"]] for f in documented.values()])
    assert everything["external_id"].is_unique
    assert everything["external_id"].str.match(r"icrc-gallery-2025:\w+:[1-8]$").all()
    assert everything["source"].str.startswith("ICRC photo gallery").all()
    assert everything["notes"].str.contains("date approximate: year only").all()
    for place in ("Hacıməmmədli", "Təzəkənd"):
        notes = everything.loc[everything["notes"].str.contains(f"'{place}'"), "notes"]
        assert len(notes) == 1
        assert "not in the gazetteer" in notes.iloc[0] and "Aghdam district" in notes.iloc[0]
    assert everything["notes"].str.contains("Geocoded by place name to GeoNames").sum() == 6


def test_documented_events_land_in_their_own_district(documented, districts):
    tatli = documented["distributions"].set_index("place_name").loc["Tatli"]
    assert "GeoNames 584862" in tatli["notes"]  # Tatlı of Ağstafa, known only as 'Tatli'
    for layer, frame in documented.items():
        assert list(frame.columns) == [
            "external_id",
            *REGISTRY[layer].property_names,
            "source",
            "geometry",
        ]
        assert all(d.month == 7 and d.day == 1 for d in frame[ACTIVITIES[layer]])
        joined = gpd.sjoin(frame, districts[["code", "geometry"]], predicate="within")
        row = joined["external_id"].str.rsplit(":", n=1).str[-1].astype(int)
        assert joined["code"].tolist() == [CSV_DISTRICTS[r] for r in row]
    sessions = documented["outreach_sessions"].set_index("place_name")
    assert sessions.loc["Bərdə", "modality"] == "school"
    assert sessions.loc["Bərdə", "audience"] == "children"
    assert sessions["participants_total"].isna().all()
    partners = documented["distributions"]["partner_organisation"].tolist()
    assert partners == ["ICRC", "ICRC, AzRCS", "ICRC, AzRCS"]
