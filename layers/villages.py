"""Villages: the populated places of the gazetteer (reference data)."""

from __future__ import annotations

from gis.search import index_search_key, search_key_column
from gis.spec import Count, LayerSpec, Properties, ShortText, Style, layer_table

WOF_ATTRIBUTION = (
    "Administrative boundaries and places: Who's On First (https://whosonfirst.org, "
    "https://github.com/whosonfirst-data/whosonfirst-data/blob/master/LICENSE.md), including data "
    "from GeoNames (CC BY 4.0), Statoids (CC BY) and foursquare Quattroshapes (CC BY); ISO 3166-2 "
    "names from iso-codes via pycountry (LGPL-2.1-or-later)."
)


class VillageProperties(Properties):
    name: ShortText
    name_az: ShortText | None = None
    name_en: ShortText | None = None
    name_ru: ShortText | None = None
    district_code: ShortText | None = None
    district_name: ShortText | None = None
    population: Count | None = None
    feature_code: ShortText | None = None
    geonames_id: int | None = None


# The place search's key (sg_fold, migration 0007): every spelling of the name, folded
# (|| and coalesce, not concat_ws, which PostgreSQL does not hold immutable).
table = layer_table(
    "villages",
    "Point",
    VillageProperties,
    search_key_column("name", "name_az", "name_en", "name_ru"),
)
index_search_key(table)

SPEC = LayerSpec(
    name="villages",
    order=80,
    title="Villages",
    description="Populated places (villages, towns, cities) from GeoNames via Who's On First.",
    geometry_type="Point",
    table=table,
    properties=VillageProperties,
    queryable_fields=(
        "name",
        "name_az",
        "name_en",
        "name_ru",
        "district_code",
        "district_name",
        "population",
        "feature_code",
        "geonames_id",
    ),
    population_field="population",
    name_fields=("name", "name_az", "name_en", "name_ru"),
    popup_fields=("name", "name_az", "district_name", "population", "feature_code"),
    tooltip_field="name",
    style=Style(color="#404040", icon="home"),
    hxl={
        "external_id": "#loc+code",
        "name": "#loc+name",
        "name_az": "#loc+name+i_az",
        "name_en": "#loc+name+i_en",
        "name_ru": "#loc+name+i_ru",
        "district_code": "#adm1+code",
        "district_name": "#adm1+name",
        "population": "#population",
        "source": "#meta+source",
    },
    attribution=WOF_ATTRIBUTION,
    license="CC BY 4.0 (GeoNames), Who's On First licence",
    reference=True,
)
