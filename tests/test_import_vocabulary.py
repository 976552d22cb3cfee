"""Vocabularies: an IMSMA-style hazard GeoPackage (UTM 38N, CHA/SHA) through the ready mapping,
the layers' synonyms, and refusals that echo the value with the allowed ones."""

from __future__ import annotations

import datetime as dt
import enum
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from gis.errors import InvalidInput
from gis.ingest import ReadOptions, import_file, load_mapping, ready_mappings
from gis.ingest.values import fold
from gis.spec import field_base_type
from layers import REGISTRY

from .helpers import hazard, square, write_geojson

HAZARDS = REGISTRY["hazard_areas"]


def imsma_geopackage(path: Path, statuses: list[str], contamination: list[str]) -> Path:
    """Hazard polygons as an IMSMA-style export holds them, in UTM zone 38N."""
    n = len(statuses)
    frame = gpd.GeoDataFrame(
        {
            "hazard_localid": [f"HA-{i:04d}" for i in range(n)],
            "hazard_name": [f"Hazard {i}" for i in range(n)],
            "hazard_type": statuses,
            "contamination": contamination,
            "date_of_record": [dt.date(2021, 5, 1 + i) for i in range(n)],
            "organisation": ["ANAMA (synthetic)"] * n,
        },
        geometry=[shapely.Polygon(square(46.9 + i / 50, 40.0)) for i in range(n)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32638")
    frame.to_file(path, driver="GPKG", layer="hazards")
    return path


def test_imsma_geopackage_in_utm_with_cha_and_sha_imports_through_the_ready_mapping(
    conn, tmp_path, limits
) -> None:
    path = imsma_geopackage(
        tmp_path / "imsma.gpkg",
        ["CHA", "SHA", "Confirmed", "cha", "Closed - cleared"],
        ["AP mine", "Anti-tank mine", "AP & AT mines", "UXO", "Cluster munition"],
    )
    read = ReadOptions(mapping=load_mapping("imsma_hazards"))
    report = import_file(conn, HAZARDS, path, limits, read=read)
    assert report.inserted == 5
    assert report.detected["crs_reprojected_from"] == "EPSG:32638"
    assert (report.detected["format"], report.detected["layer"]) == ("GeoPackage", "hazards")
    assert report.columns["status"] == "hazard_type"
    assert report.columns["hazard_type"] == "contamination"
    assert report.columns["external_id"] == "hazard_localid"
    rows = conn.execute(
        sa.text("SELECT status, hazard_type, ST_XMin(geom) FROM hazard_areas ORDER BY external_id")
    ).all()
    assert [(s, t) for s, t, _ in rows] == [
        ("confirmed", "AP_mine"),
        ("suspected", "AT_mine"),
        ("confirmed", "mixed"),
        ("confirmed", "UXO_ERW"),
        ("cleared", "cluster_munitions"),
    ]
    assert [x for *_, x in rows] == pytest.approx([46.9 + i / 50 for i in range(5)], abs=1e-6)


def test_synonyms_match_whatever_the_case_spacing_and_accents(conn, tmp_path, limits) -> None:
    spellings = [("CHA", "AP mine"), ("  s.h.a ", "anti-personnel   MINE"),
                 ("Confirmed", "ap_mine"), ("Suspected Hazardous Area", "Àntí-tànk mïne")]  # fmt: skip
    features = [
        hazard(f"h{i}", square(47, 40), status=s, hazard_type=t)
        for i, (s, t) in enumerate(spellings)
    ]
    report = import_file(conn, HAZARDS, write_geojson(tmp_path / "h.geojson", features), limits)
    assert report.inserted == 4
    stored = conn.execute(
        sa.text("SELECT status, hazard_type FROM hazard_areas ORDER BY external_id")
    ).all()
    assert [tuple(r) for r in stored] == [
        ("confirmed", "AP_mine"),
        ("suspected", "AP_mine"),
        ("confirmed", "AP_mine"),
        ("suspected", "AT_mine"),
    ]


def test_every_declared_synonym_leads_to_a_value_of_its_field_without_clashes() -> None:
    for spec in REGISTRY.values():
        for name, synonyms in spec.synonyms.items():
            kind = field_base_type(spec.properties, name)
            assert isinstance(kind, type) and issubclass(kind, enum.Enum), (spec.name, name)
            values = {str(e.value) for e in kind}
            folded: dict[str, str] = {fold(v): v for v in values}
            for synonym, value in synonyms.items():
                assert value in values, (spec.name, name, synonym)
                assert folded.setdefault(fold(synonym), value) == value, (spec.name, synonym)


def test_ready_mappings_load_and_name_only_fields_of_their_layer() -> None:
    assert {"kobo_eore_sessions", "imsma_hazards"} <= set(ready_mappings())
    for name in ready_mappings():
        mapping = load_mapping(name)
        assert mapping.layer in REGISTRY
        fields = {*REGISTRY[mapping.layer].property_names, "source"}
        assert set(mapping.columns) <= fields and set(mapping.values) <= fields


def test_an_unknown_value_is_echoed_with_the_allowed_values_and_synonyms(
    conn, tmp_path, limits
) -> None:
    long_value = "dangerous " * 30
    features = [
        hazard("a", square(47, 40), status="Dangerous"),
        hazard("b", square(47, 40), status=long_value),
    ]
    with pytest.raises(InvalidInput) as info:
        import_file(conn, HAZARDS, write_geojson(tmp_path / "h.geojson", features), limits)
    first, second = info.value.errors
    assert first.field == "status" and first.reason.startswith("`Dangerous` is not one of")
    assert "'suspected'" in first.reason and "'cleared'" in first.reason and "CHA" in first.reason
    assert "…`" in second.reason and len(second.reason) < len(long_value) + 250
    assert conn.execute(sa.text("SELECT count(*) FROM hazard_areas")).scalar_one() == 0


def test_a_geopackage_with_two_layers_names_the_option_and_the_layers(
    conn, tmp_path, limits
) -> None:
    path = imsma_geopackage(tmp_path / "two.gpkg", ["CHA"], ["AP mine"])
    gpd.read_file(path).to_file(path, driver="GPKG", layer="hazards_2020")
    with pytest.raises(InvalidInput) as info:
        import_file(conn, HAZARDS, path, limits)
    message = info.value.message
    assert "--source-layer" in message and "hazards, hazards_2020" in message
    report = import_file(
        conn, HAZARDS, path, limits, read=ReadOptions(source_layer="hazards_2020",
                                                      mapping=load_mapping("imsma_hazards")),
    )  # fmt: skip
    assert report.inserted == 1


def test_a_mapping_for_another_layer_or_with_an_unknown_field_is_refused(
    conn, tmp_path, limits
) -> None:
    path = imsma_geopackage(tmp_path / "h.gpkg", ["CHA"], ["AP mine"])
    with pytest.raises(InvalidInput, match="is for layer 'outreach_sessions'"):
        import_file(conn, HAZARDS, path, limits,
                    read=ReadOptions(mapping=load_mapping("kobo_eore_sessions")))  # fmt: skip
    bad = tmp_path / "bad.toml"
    bad.write_text('[columns]\nseverity = "hazard_type"\n')
    with pytest.raises(InvalidInput, match="has no field `severity`"):
        import_file(conn, HAZARDS, path, limits, read=ReadOptions(mapping=load_mapping(bad)))
    broken = tmp_path / "broken.toml"
    broken.write_text("[columns\n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_mapping(broken)
