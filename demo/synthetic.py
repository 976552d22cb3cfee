"""Deterministic synthetic hazard areas, facilities, distributions and risk-education sessions.

The demo needs layers big and plausible enough to exercise maps, coverage and the API, but no
real contamination data may ship with it. So every record here is invented — and says so in its
`source` — yet falls where such records would: hazards in the districts returned in 2020 and
along the former line of contact, activities next to lived-in villages (never inside a hazard),
and risk education reaching most, but not all, of the villages near a hazard.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from demo.reference import Places, as_multipolygons, dates_from_days, layer_frame
from layers.hazard_areas import ACTIVE_STATUSES

SOURCE = "synthetic demo"
OPERATOR = "synthetic demo operator"
PARTNER = "synthetic demo partner"
START = "2021-01-01"  # day 0 of every synthetic date; all of them fall in 2021–2025
GEOD = Geod(ellps="WGS84")
METRIC_CRS = "EPSG:32638"  # UTM 38N; only to decide which villages lie near a hazard
AT_RISK_WITHIN_M = 5_000.0
COVERED_SHARE_2025 = 0.55

# Weight of each district among hazards drawn near villages: the districts returned in 2020,
# and Tartar on the former line of contact.
CORE_WEIGHTS = {
    "AZ.AM": 14, "AZ.TA": 13, "AZ.FU": 12, "AZ.CB": 9, "AZ.KA": 9, "AZ.XD": 9, "AZ.LC": 8,
    "AZ.ZG": 6, "AZ.QD": 6, "AZ.XC": 6, "AZ.SU": 3, "AZ.SS": 0.5, "AZ.XA": 0.5,
}  # fmt: skip
NEIGHBOURS = ("AZ.AC", "AZ.BQ", "AZ.GR", "AZ.BR", "AZ.AF", "AZ.QZ", "AZ.TO", "AZ.GD")
NEIGHBOUR_SHARE = 0.08  # of near-village hazards; with the band hazards about 5 % overall
BAND_SHARE = 0.35
# Where aid and risk education go, per village: front-line communities lived in all along
# weigh most, the returned districts (resettled only since 2022) less.
ACTIVITY_WEIGHTS = {
    "AZ.TA": 3, "AZ.AM": 3, "AZ.FU": 2.5, "AZ.AC": 2, "AZ.BQ": 1.5, "AZ.GR": 1.5, "AZ.BR": 1.5,
    "AZ.TO": 1.5, "AZ.AF": 1, "AZ.QZ": 1, "AZ.GD": 1, "AZ.CB": 1, "AZ.ZG": 1, "AZ.LC": 1,
    "AZ.SS": 1, "AZ.XA": 1, "AZ.QD": 0.7, "AZ.KA": 0.7, "AZ.XD": 0.7, "AZ.XC": 0.7, "AZ.SU": 0.7,
}  # fmt: skip
# Rough, synthetic traces (lon, lat) of where defensive minefields and 2020 fighting lay: the
# former line of contact from the Murov ridge to Horadiz, the Araz valley, the Shusha axis.
FRONT_LINES = (
    ((46.40, 40.32), (46.55, 40.28), (46.70, 40.24), (46.85, 40.17), (46.98, 40.10),
     (47.05, 40.00), (47.10, 39.88), (47.15, 39.75), (47.22, 39.65), (47.27, 39.55),
     (47.33, 39.44)),
    ((47.30, 39.40), (47.10, 39.28), (46.90, 39.18), (46.72, 39.13), (46.60, 38.95)),
    ((47.15, 39.60), (46.98, 39.57), (46.85, 39.62), (46.77, 39.74)),
    ((45.95, 40.25), (46.20, 40.28), (46.40, 40.32)),
)  # fmt: skip

HAZARD_TYPES = ("AP_mine", "AT_mine", "mixed", "cluster_munitions", "UXO_ERW", "IED", "unknown")
TYPE_MIX_FRONT = (0.30, 0.16, 0.28, 0.05, 0.13, 0.02, 0.06)  # minefields of the old front
TYPE_MIX_ELSEWHERE = (0.10, 0.07, 0.08, 0.27, 0.36, 0.04, 0.08)  # 2020 shelling and bombing
STATUSES = ("suspected", "confirmed", "reduced", "cancelled", "cleared")
STATUS_MIX = (0.46, 0.30, 0.08, 0.07, 0.09)
SURVEY = {  # per status: methods and their probabilities
    "suspected": (("non-technical survey", "community report"), (0.75, 0.25)),
    "confirmed": (("technical survey", "non-technical survey"), (0.6, 0.4)),
    "reduced": (("technical survey",), (1.0,)),
    "cancelled": (("non-technical survey",), (1.0,)),
    "cleared": (("technical survey",), (1.0,)),
}
HAZARD_NOTES = (
    "agricultural land", "reported by a shepherd", "road verge", "orchards and vineyards",
    "around destroyed buildings", "river bank", "livestock losses reported",
)  # fmt: skip
FACILITY_KINDS = {  # name, capacity range, years, works done
    "school": ("School No. {n}, {place}", (40, 600), (2021, 2023), (
        "roof, windows and heating repaired", "classrooms and sanitation rehabilitated",
        "electrical wiring, doors and heating replaced")),
    "kindergarten": ("Kindergarten No. {n}, {place}", (20, 120), (2021, 2023), (
        "playrooms and kitchen rehabilitated", "heating and sanitation repaired, new playground")),
    "safe_play_area": ("Safe play area, {place}", (30, 250), (2021, 2025), (
        "fenced safe play area built next to the school",)),
    "health_post": ("Health post, {place}", (300, 3000), (2021, 2025), (
        "health post rehabilitated and equipped",)),
    "water_point": ("Water point, {place}", (50, 1500), (2021, 2025), (
        "water point and supply pipe rehabilitated",)),
}  # fmt: skip
ITEMS = {  # share, unit, quantity per household (low, high)
    "food": (0.30, "kg", 15, 25), "fertiliser": (0.15, "kg", 50, 100),
    "seeds": (0.12, "kg", 10, 30), "hygiene": (0.15, "kits", 1, 1),
    "cash": (0.13, "AZN", 100, 300), "shelter": (0.08, "kits", 1, 1),
    "other": (0.07, "items", 1, 3),
}  # fmt: skip
AUDIENCES = ("children", "adolescents", "adults", "mixed", "teachers", "farmers")
AUDIENCE_MIX = (0.35, 0.15, 0.25, 0.12, 0.05, 0.08)
MODALITIES = ("school", "community", "door_to_door", "media", "other")
MODALITY_MIX = np.array([  # per audience, over MODALITIES
    [0.75, 0.25, 0, 0, 0], [0.70, 0.25, 0, 0, 0.05], [0, 0.60, 0.30, 0.03, 0.07],
    [0.10, 0.75, 0.05, 0.05, 0.05], [0.85, 0, 0, 0, 0.15], [0, 0.70, 0.30, 0, 0],
])  # fmt: skip
MEAN_SIZE = np.array([28.0, 22.0, 6.0, 80.0, 15.0])  # participants, per modality
SPLIT = np.array([  # per audience: shares of girls, boys, women, men
    [0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5],
    [0.2, 0.2, 0.3, 0.3], [0, 0, 0.7, 0.3], [0, 0, 0.25, 0.75],
])  # fmt: skip
YEAR_SHARE = {2021: 0.02, 2022: 0.20, 2023: 0.25, 2024: 0.265, 2025: 0.265}


@dataclass(frozen=True)
class DemoSize:
    """How many records of each kind a demo size holds."""

    hazard_areas: int
    facilities: dict[str, int]
    distributions: int
    sessions: int
    participants_2022_2025: int


# Sized on the public aggregates: 25 schools and 6 kindergartens in 2021–2023 (one of the six is
# the documented Təzəkənd kindergarten of 2022, loaded beside these), over 100,000 people reached
# by risk education in 2022–2025 (≈4,000 sessions of ~25 people).
FACILITIES = {
    "school": 25, "kindergarten": 5, "safe_play_area": 12, "health_post": 8, "water_point": 10
}  # fmt: skip
SCALES = {
    "national": DemoSize(2_500, FACILITIES, 400, 4_080, 100_000),
    "large": DemoSize(20_000, {k: 5 * v for k, v in FACILITIES.items()}, 2_000, 100_000, 2_450_000),
}


def generate(
    villages: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    scale: str = "national",
    seed: int = 20250901,
) -> dict[str, gpd.GeoDataFrame]:
    """The four synthetic layers; the same inputs and seed always give identical frames."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {sorted(SCALES)}")
    size = SCALES[scale]
    rng = np.random.default_rng(seed)
    places = Places.of(villages)
    hazards = _hazard_areas(rng, size.hazard_areas, places, districts)
    active = hazards[hazards["status"].isin([str(s) for s in ACTIVE_STATUSES])]
    at_risk = near_hazards(places, active.geometry, AT_RISK_WITHIN_M)
    avoid = shapely.STRtree(hazards.geometry.values)
    return {
        "hazard_areas": hazards,
        "facilities": _facilities(rng, size.facilities, places, avoid),
        "distributions": _distributions(rng, size.distributions, places, avoid),
        "outreach_sessions": _sessions(rng, size, places, at_risk, avoid),
    }


def near_hazards(places: Places, hazards: gpd.GeoSeries, within_m: float) -> np.ndarray:
    """Which places lie within `within_m` metres of any of the hazards (UTM 38N, metres)."""
    hit = np.zeros(len(places.lon), dtype=bool)
    if not hazards.empty:
        tree = shapely.STRtree(hazards.to_crs(METRIC_CRS).values)
        pts = gpd.GeoSeries(shapely.points(places.lon, places.lat), crs="EPSG:4326")
        pairs = tree.query(pts.to_crs(METRIC_CRS).values, predicate="dwithin", distance=within_m)
        hit[pairs[0]] = True
    return hit


def _day(date: str) -> int:
    return int((np.datetime64(date, "D") - np.datetime64(START, "D")).astype(int))


def _days(rng: np.random.Generator, n: int, first_year: int, last_year: int) -> np.ndarray:
    """Uniform days (counted from START) in the years given."""
    return rng.integers(_day(f"{first_year}-01-01"), _day(f"{last_year + 1}-01-01"), n)


# --- hazard areas ------------------------------------------------------------------------------


def _band_points(rng: np.random.Generator, m: int) -> tuple[np.ndarray, ...]:
    """Points scattered about the front-line traces, with each trace's bearing there."""
    segments = np.array([(a, b) for line in FRONT_LINES for a, b in itertools.pairwise(line)])
    kx = np.cos(np.radians(39.8))  # a degree of longitude is shorter here; fine for weights
    d = segments[:, 1] - segments[:, 0]
    length = np.hypot(d[:, 0] * kx, d[:, 1])
    s = rng.choice(len(segments), m, p=length / length.sum())
    t, offset_m = rng.random(m), rng.normal(0.0, 1_500.0, m)
    bearing = np.degrees(np.arctan2(d[s, 0] * kx, d[s, 1]))
    x0, y0 = segments[s, 0, 0] + t * d[s, 0], segments[s, 0, 1] + t * d[s, 1]
    lon, lat, _ = GEOD.fwd(x0, y0, bearing + 90.0, offset_m)
    return np.asarray(lon), np.asarray(lat), bearing


def _blobs(rng, lon: np.ndarray, lat: np.ndarray, bearing: np.ndarray, banded: np.ndarray):
    """Smooth, star-shaped polygons around each centre, laid out in metres.

    Vertices are geodesic (azimuth, distance) offsets from the centre — an azimuthal equidistant
    layout — with radii always positive and azimuths always increasing, so a ring can never
    cross itself. Areas are lognormal (median ~8 ha); band hazards are long strips along the band.
    """
    m, k = len(lon), 24
    area = np.clip(rng.lognormal(np.log(80_000.0), 1.25, m), 5_000.0, 3_000_000.0)
    aspect = np.where(banded, rng.uniform(2.0, 6.0, m), rng.uniform(1.0, 2.5, m))
    a, b = np.sqrt(area * aspect / np.pi)[:, None], np.sqrt(area / (aspect * np.pi))[:, None]
    axis = np.where(banded, bearing + rng.normal(0, 10, m), rng.uniform(0, 180, m))
    theta = 2 * np.pi * (np.arange(k) + rng.uniform(-0.3, 0.3, (m, k))) / k
    alpha = theta - np.radians(axis)[:, None]
    r = a * b / np.hypot(b * np.cos(alpha), a * np.sin(alpha))
    wobble = rng.uniform(0, 0.07, (m, 3, 1)) * np.cos(
        np.arange(2, 5)[None, :, None] * theta[:, None, :] + rng.uniform(0, 2 * np.pi, (m, 3, 1))
    )
    r = r * (1.0 + wobble.sum(axis=1))
    x, y, _ = GEOD.fwd(np.repeat(lon, k), np.repeat(lat, k), np.degrees(theta).ravel(), r.ravel())
    return shapely.polygons(np.stack([np.reshape(x, (m, k)), np.reshape(y, (m, k))], axis=-1))


def _hazard_batch(rng, m: int, places: Places, lived_in, geoms: list, weights: np.ndarray):
    """Candidate hazards, kept only if centred in their district, sound once clipped to it, and
    clear of lived-in villages."""
    codes = (*CORE_WEIGHTS, *NEIGHBOURS)
    banded = rng.random(m) < BAND_SHARE
    target = rng.choice(len(codes), m, p=weights)
    # Near-village centres: a village of the drawn district, then 0.1–4 km away from it.
    lon, lat, u = np.empty(m), np.empty(m), rng.random(m)
    for i, code in enumerate(codes):
        rows, idx = target == i, np.flatnonzero(places.code == code)
        if not len(idx):  # a district without villages: anchor on the district itself
            p = shapely.point_on_surface(geoms[i])
            lon[rows], lat[rows] = p.x, p.y
            continue
        pick = idx[(u[rows] * len(idx)).astype(int)]
        lon[rows], lat[rows] = places.lon[pick], places.lat[pick]
    dist = np.maximum(100.0, 4_000.0 * np.sqrt(rng.random(m)))
    lon, lat, _ = GEOD.fwd(lon, lat, rng.uniform(0, 360, m), dist)
    blon, blat, bearing = _band_points(rng, m)
    lon, lat = np.where(banded, blon, lon), np.where(banded, blat, lat)
    # A band centre belongs to whichever core district it falls in (none: dropped).
    target = np.where(banded, -1, target)
    for i in range(len(CORE_WEIGHTS)):
        target[banded & (target == -1) & shapely.contains_xy(geoms[i], lon, lat)] = i
    ok = target >= 0
    for i in range(len(codes)):
        rows = ok & (target == i)
        ok[rows] = shapely.contains_xy(geoms[i], lon[rows], lat[rows])
    polys = _blobs(rng, lon, lat, bearing, banded)
    area_before = shapely.area(polys)
    district = np.asarray(geoms, dtype=object)[np.maximum(target, 0)]
    cut = ok & ~shapely.contains(district, polys)
    polys[cut] = shapely.intersection(polys[cut], district[cut])
    polygonal = np.isin(shapely.get_type_id(polys), (3, 6))  # Polygon, MultiPolygon
    ok &= polygonal & shapely.is_valid(polys) & (shapely.area(polys) >= 0.6 * area_before)
    # ~200 m clear of lived-in villages (degrees are fine for a rejection rule), so schools and
    # sessions placed next to a village never fall inside a hazard.
    kept = np.flatnonzero(ok)
    ok[kept[lived_in.query(polys[kept], predicate="dwithin", distance=0.0025)[0]]] = False
    front = banded | (_km_to_front_line(lon, lat) < 8.0)
    return {"geometry": polys[ok], "target": target[ok], "front": front[ok], "banded": banded[ok]}


def _km_to_front_line(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    kx, ky = np.cos(np.radians(39.8)) * 111.32, 111.32
    line = shapely.linestrings([(x * kx, y * ky) for x, y in FRONT_LINES[0]])
    return shapely.distance(shapely.points(lon * kx, lat * ky), line)


def _hazard_areas(rng, n: int, places: Places, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    codes = (*CORE_WEIGHTS, *NEIGHBOURS)
    by_code = districts.set_index("code")
    if missing := [c for c in codes if c not in by_code.index]:
        raise ValueError(f"the districts layer lacks {missing}")
    geoms = [by_code.geometry[c] for c in codes]
    shapely.prepare(geoms)
    core = np.array(list(CORE_WEIGHTS.values()), dtype=float)
    neighbour = np.full(len(NEIGHBOURS), NEIGHBOUR_SHARE / len(NEIGHBOURS))
    weights = np.concatenate([core / core.sum() * (1 - NEIGHBOUR_SHARE), neighbour])
    lived_in = shapely.STRtree(shapely.points(places.lon, places.lat)[places.lived_in])
    batches, have = [], 0
    while have < n:  # rejected candidates are simply redrawn
        batch = _hazard_batch(rng, int((n - have) * 1.4) + 32, places, lived_in, geoms, weights)
        batches.append(batch)
        have += len(batch["target"])
    h = {k: np.concatenate([b[k] for b in batches])[:n] for k in batches[0]}
    status = np.asarray(STATUSES, dtype=object)[rng.choice(len(STATUSES), n, p=STATUS_MIX)]
    mix = np.where(h["front"][:, None], TYPE_MIX_FRONT, TYPE_MIX_ELSEWHERE)
    hazard_type = (rng.random(n)[:, None] > np.cumsum(mix, axis=1)[:, :-1]).sum(axis=1)
    span = _day("2026-01-01")
    recorded = np.floor(span * rng.random(n) ** 1.3).astype(int)
    changed = recorded + np.floor((span - recorded) * rng.random(n)).astype(int)
    # A suspected area has not changed yet; a CHA is often recorded as confirmed straight away.
    unchanged = (status == "suspected") | ((status == "confirmed") & (rng.random(n) < 0.55))
    changed_on = dates_from_days(changed, START)
    changed_on[unchanged] = None
    survey = np.empty(n, dtype=object)
    for name, (methods, p) in SURVEY.items():
        rows = status == name
        survey[rows] = np.asarray(methods, dtype=object)[rng.choice(len(methods), rows.sum(), p=p)]
    prefix = np.where(np.isin(status, ("suspected", "cancelled")), "SHA", "CHA")
    seq = pd.Series(h["target"]).groupby(h["target"]).cumcount().to_numpy() + 1
    tags = [(by_code["iso_code"][c] or c).replace("AZ.", "").split("-")[-1] for c in codes]
    notes = np.asarray(HAZARD_NOTES, dtype=object)[rng.integers(0, len(HAZARD_NOTES), n)]
    notes[rng.random(n) >= 0.4] = None
    notes[h["banded"] & (rng.random(n) < 0.5)] = "along former defensive positions"
    columns = {
        "external_id": [f"synthetic:hazard_areas:{i:06d}" for i in range(1, n + 1)],
        "name": [
            f"{p} {tags[t]}-{i:04d}" for p, t, i in zip(prefix, h["target"], seq, strict=True)
        ],
        "hazard_type": np.asarray(HAZARD_TYPES, dtype=object)[hazard_type],
        "status": status,
        "recorded_on": dates_from_days(recorded, START),
        "status_changed_on": changed_on,
        "survey_method": survey,
        "source_organisation": OPERATOR,
        "notes": notes,
    }
    return layer_frame("hazard_areas", columns, as_multipolygons(h["geometry"]), SOURCE)


# --- activities near villages ------------------------------------------------------------------


def _around(rng, places: Places, idx: np.ndarray, lo_m: float, hi_m: float, hazards) -> np.ndarray:
    """Points `lo_m`–`hi_m` metres from the given places, in any direction, never in a hazard.

    A point that lands in a hazard area is redrawn; after a few tries it goes on the village
    point itself, which hazard areas keep clear of.
    """
    lon, lat = places.lon[idx].copy(), places.lat[idx].copy()
    todo = np.arange(len(idx))
    for _ in range(6):
        if not len(todo):
            break
        k = len(todo)
        x, y, _ = GEOD.fwd(lon[todo], lat[todo], rng.uniform(0, 360, k), rng.uniform(lo_m, hi_m, k))
        inside = np.zeros(k, dtype=bool)
        inside[hazards.query(shapely.points(x, y), predicate="within")[0]] = True
        lon[todo[~inside]], lat[todo[~inside]] = np.asarray(x)[~inside], np.asarray(y)[~inside]
        todo = todo[inside]
    return shapely.points(lon, lat)


def _activity_frame(layer: str, date_field: str, day: np.ndarray, geometry, **values):
    """An activity layer's frame, in date order so that external ids read as a timeline."""
    order = np.argsort(day, kind="stable")
    columns: dict[str, object] = {
        "external_id": [f"synthetic:{layer}:{i:06d}" for i in range(1, len(day) + 1)],
        date_field: dates_from_days(day[order], START),
    }
    for name, value in values.items():
        if np.ndim(value) == 0:  # the same for every record
            columns[name] = value
        elif np.issubdtype(np.asarray(value).dtype, np.integer):
            columns[name] = pd.array(np.asarray(value)[order], dtype="Int64")
        else:
            columns[name] = np.asarray(value)[order]
    return layer_frame(layer, columns, np.asarray(geometry)[order], SOURCE)


def _facilities(rng, counts: dict[str, int], places: Places, avoid) -> gpd.GeoDataFrame:
    w = places.weights(ACTIVITY_WEIGHTS)
    pool = np.flatnonzero(w > 0)
    kinds, names, days, works, capacity, geometry = [], [], [], [], [], []
    for kind, n in counts.items():
        template, (lo, hi), (first, last), done = FACILITY_KINDS[kind]
        idx = rng.choice(pool, n, replace=False, p=w[pool] / w[pool].sum())
        number = rng.choice([1, 1, 1, 2, 2, 3], n)
        kinds += [kind] * n
        labels = places.label[idx]
        names += [template.format(n=k, place=p) for k, p in zip(number, labels, strict=True)]
        days.append(_days(rng, n, first, last))
        works.append(np.asarray(done, dtype=object)[rng.integers(0, len(done), n)])
        capacity.append((lo + (hi - lo) * rng.random(n) ** 2).astype(int))
        geometry.append(_around(rng, places, idx, 50, 800, avoid))
    return _activity_frame(
        "facilities", "rehabilitated_on", np.concatenate(days), np.concatenate(geometry),
        facility_type=np.asarray(kinds, dtype=object), name=np.asarray(names, dtype=object),
        works_done=np.concatenate(works), capacity=np.concatenate(capacity),
        organisation=PARTNER, notes=None,
    )  # fmt: skip


def _distributions(rng, n: int, places: Places, avoid) -> gpd.GeoDataFrame:
    w = places.weights(ACTIVITY_WEIGHTS)
    idx = rng.choice(len(w), n, p=w / w.sum())
    shares, units, lo, hi = (np.asarray(c) for c in zip(*ITEMS.values(), strict=True))
    item = rng.choice(len(ITEMS), n, p=shares / shares.sum())
    households = np.clip(np.rint(rng.lognormal(np.log(60.0), 0.8, n)), 5, 1_500).astype(int)
    per_household = lo[item] + (hi[item] - lo[item]) * rng.random(n)
    return _activity_frame(
        "distributions", "distributed_on", _days(rng, n, 2021, 2025),
        _around(rng, places, idx, 50, 800, avoid),
        item_category=np.asarray(list(ITEMS), dtype=object)[item],
        quantity=np.round(households * per_household).astype(float),
        unit=units.astype(object)[item], households=households,
        beneficiaries=np.rint(households * rng.uniform(3.0, 5.0, n)).astype(int),
        partner_organisation=PARTNER, place_name=places.label[idx], notes=None,
    )  # fmt: skip


def _covered_2025(rng, places: Places, pool: np.ndarray) -> np.ndarray:
    """The villages risk education reached in 2025: ~55 % of those at risk, in patches.

    Programmes work area by area, so coverage follows a smooth random field (waves 35–75 km
    long) rather than a coin per village: a planner's "uncovered villages" are whole
    neighbourhoods, and stay uncovered whatever reach distance the query uses.
    """
    x, y = places.lon[pool], places.lat[pool]
    field = rng.normal(0.0, 0.5, len(pool))
    for _ in range(3):
        angle, wavelength = rng.uniform(0, np.pi), rng.uniform(0.4, 0.9)
        phase = (x * np.cos(angle) + y * np.sin(angle)) / wavelength
        field += np.cos(2 * np.pi * phase + rng.uniform(0, 2 * np.pi))
    return rng.permutation(pool[field >= np.quantile(field, 1 - COVERED_SHARE_2025)])


def _sessions(rng, size: DemoSize, places: Places, at_risk: np.ndarray, avoid) -> gpd.GeoDataFrame:
    w = places.weights(ACTIVITY_WEIGHTS, default=0.5) * at_risk
    if not w.any():  # no hazard near any village: fall back to the activity districts
        w = places.weights(ACTIVITY_WEIGHTS)
    pool = np.flatnonzero(w > 0)
    covered = _covered_2025(rng, places, pool)
    counts = {year: round(share * size.sessions) for year, share in YEAR_SHARE.items()}
    counts[2025] += size.sessions - sum(counts.values())
    villages, days = [], []
    for year, k in counts.items():
        if year == 2025:  # each covered village at least once, the rest by district weight
            first = covered[:k]
            more = rng.choice(covered, k - len(first), p=w[covered] / w[covered].sum())
            villages.append(np.concatenate([first, more]))
        else:
            villages.append(rng.choice(pool, k, p=w[pool] / w[pool].sum()))
        days.append(_days(rng, k, year, year))
    idx, day, n = np.concatenate(villages), np.concatenate(days), size.sessions
    audience = rng.choice(len(AUDIENCES), n, p=AUDIENCE_MIX)
    modality = (rng.random(n)[:, None] > np.cumsum(MODALITY_MIX[audience], 1)[:, :-1]).sum(1)
    raw = 1 + rng.poisson(MEAN_SIZE[modality] - 1)
    # Scale session sizes so that 2022–2025 adds up to the aggregate this demo size stands for.
    scaled = raw * size.participants_2022_2025 / raw[day >= _day("2022-01-01")].sum()
    parts = rng.multinomial(np.maximum(1, np.rint(scaled)).astype(int), SPLIT[audience])
    return _activity_frame(
        "outreach_sessions", "held_on", day, _around(rng, places, idx, 20, 400, avoid),
        audience=np.asarray(AUDIENCES, dtype=object)[audience],
        modality=np.asarray(MODALITIES, dtype=object)[modality],
        **{part: parts[:, j] for j, part in enumerate(("girls", "boys", "women", "men"))},
        participants_total=parts.sum(axis=1), organisation=PARTNER,
        place_name=places.label[idx], notes=None,
    )  # fmt: skip
