"""Map layers for the features an analysis answered: each layer's own display-ready features
(`data.collect`), with the analysis' figures for each feature bound as one JSON parameter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from gis.maps.data import Detail, Extra, LayerData, by_id, collect, looked_up
from gis.spec import LayerSpec, Role

Figures = Mapping[int, Mapping[str, object]]


def answered(
    conn: sa.Connection,
    spec: LayerSpec,
    role: Role,
    scale: Detail,
    figures: Figures,
    labels: Sequence[tuple[str, str]],
    *,
    extra: Sequence[Extra] = (),
    **options: object,
) -> LayerData:
    """The features of `spec` whose ids are the keys of `figures`, each with the figures named in
    `labels` (key, label) as extra properties, already text (the page shows them as they are)."""
    t = spec.table
    document = by_id(figures)
    figure_extras = [Extra(key, label, looked_up(document, spec, key)) for key, label in labels]
    where = [t.c.id.in_([int(i) for i in figures])]
    return collect(
        conn,
        spec,
        role,
        scale,
        where=where,
        extra=[*extra, *figure_extras],
        **options,  # type: ignore[arg-type]
    )
