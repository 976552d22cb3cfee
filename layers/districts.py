"""Districts: first-order administrative units, rayons and cities (reference data)."""

from __future__ import annotations

import sqlalchemy as sa

from gis.search import index_search_key, search_key_column
from gis.spec import Count, LayerSpec, Properties, ShortText, Style, layer_table
from layers.villages import WOF_ATTRIBUTION


class DistrictProperties(Properties):
    name: ShortText
    name_az: ShortText | None = None
    name_az_ascii: ShortText | None = None
    code: ShortText
    iso_code: ShortText | None = None
    unit_type: ShortText | None = None
    population_1999: Count | None = None


# District codes are how people name districts (AZ.AM): unique, beside the external id.
table = layer_table(
    "districts",
    "MultiPolygon",
    DistrictProperties,
    sa.UniqueConstraint("code"),
    # The place search's key (sg_fold, migration 0007): every spelling of the name, folded
    # (|| and coalesce, not concat_ws, which PostgreSQL does not hold immutable).
    search_key_column("name", "name_az", "name_az_ascii", "code"),
)
index_search_key(table)

SPEC = LayerSpec(
    name="districts",
    order=90,
    title="Districts",
    description="Districts (rayons) and cities: the first-order administrative units of ISO 3166-2.",
    geometry_type="MultiPolygon",
    table=table,
    properties=DistrictProperties,
    queryable_fields=("name", "name_az", "code", "iso_code", "unit_type", "population_1999"),
    name_fields=("name", "name_az", "name_az_ascii"),
    code_field="code",
    popup_fields=("name", "name_az", "code", "unit_type", "population_1999"),
    tooltip_field="name",
    style=Style(color="#555555", fill_opacity=0.0),
    hxl={
        "external_id": "#adm1+code+wof",
        "name": "#adm1+name",
        "name_az": "#adm1+name+i_az",
        "code": "#adm1+code",
        "iso_code": "#adm1+code+iso",
        "population_1999": "#population+year1999",
        "source": "#meta+source",
    },
    attribution=WOF_ATTRIBUTION,
    license="CC0 (Who's On First Mesoshapes), CC BY (Statoids names)",
    reference=True,
)
