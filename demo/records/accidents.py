"""Synthetic explosive-ordnance accidents, 2021–2025: invented, and saying so in their source.

Press reports from the region put more than half of recent mine incidents outside mapped hazard
areas, so a little under half of these fall inside a hazard area on record and the rest near
lived-in villages of the contaminated districts, outside every hazard area. No victim is named.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from demo.records import DemoWorld
from demo.reference import Places, dates_from_days, layer_frame
from demo.synthetic import CORE_WEIGHTS, GEOD, NEIGHBOURS, OPERATOR, SOURCE

COUNT = {"national": 300, "large": 1_500}
INSIDE_SHARE = 0.45  # of accidents, inside a mapped hazard area
YEARS = {2021: 0.30, 2022: 0.25, 2023: 0.19, 2024: 0.15, 2025: 0.11}  # most soon after return
DEVICES = {"AP_mine": 0.34, "AT_mine": 0.2, "UXO_ERW": 0.26, "cluster_munitions": 0.08,
           "IED": 0.02, "mixed": 0.02, "unknown": 0.08}  # fmt: skip
ACTIVITIES = {"farming": 0.25, "herding": 0.15, "collecting_scrap": 0.15, "travel": 0.2,
              "playing": 0.07, "demining": 0.08, "other": 0.1}  # fmt: skip
ADULTS, CHILDREN = {"men": 0.85, "women": 0.15}, {"boys": 0.7, "girls": 0.3}


def generate(world: DemoWorld) -> gpd.GeoDataFrame:
    rng = world.rng("accidents")
    n = COUNT[world.scale]
    hazards = world.frames["hazard_areas"].geometry.to_numpy()
    inside = rng.random(n) < INSIDE_SHARE
    points = np.empty(n, dtype=object)
    points[inside] = [_in(rng, h) for h in rng.choice(hazards, int(inside.sum()))]
    points[~inside] = _near_villages(rng, Places.of(world.villages), int((~inside).sum()), hazards)
    years = rng.choice(list(YEARS), n, p=list(YEARS.values()))
    starts = np.array([np.datetime64(f"{y}-01-01", "D") for y in years])
    day = (starts - np.datetime64("2021-01-01", "D")).astype(int) + rng.integers(0, 365, n)
    activity = rng.choice(list(ACTIVITIES), n, p=list(ACTIVITIES.values()))
    device = rng.choice(list(DEVICES), n, p=list(DEVICES.values()))
    counts = _casualties(rng, activity, device)
    order = np.argsort(day, kind="stable")
    columns = {
        "external_id": [f"synthetic:accidents:{i:06d}" for i in range(1, n + 1)],
        "accident_on": dates_from_days(day[order], "2021-01-01"),
        "device_category": device[order].astype(object),
        "activity": activity[order].astype(object),
        **{k: v[order] for k, v in counts.items()},
        "during_clearance": (activity == "demining")[order],
        "source_organisation": OPERATOR,
        "notes": "Synthetic accident for the demo: not a real event.",
    }
    return layer_frame("accidents", columns, points[order], SOURCE)


def _in(rng: np.random.Generator, polygon: shapely.Geometry) -> shapely.Point:
    """A random point inside the polygon (its surface point if a few draws all miss)."""
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(20):
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if polygon.contains(p):
            return p
    return polygon.point_on_surface()


def _near_villages(rng, places: Places, n: int, hazards: np.ndarray) -> list[shapely.Point]:
    """Points 300 m – 4 km from lived-in villages of the contaminated districts, outside every
    hazard area on record (redrawn until they are; the village point itself as a last resort)."""
    weights = places.weights({**CORE_WEIGHTS, **dict.fromkeys(NEIGHBOURS, 1.0)})
    idx = rng.choice(len(weights), n, p=weights / weights.sum())
    tree = shapely.STRtree(hazards)
    out = []
    for i in idx:
        point = shapely.Point(places.lon[i], places.lat[i])
        for _ in range(10):
            x, y, _ = GEOD.fwd(
                places.lon[i], places.lat[i], rng.uniform(0, 360), rng.uniform(300, 4000)
            )
            candidate = shapely.Point(x, y)
            if not len(tree.query(candidate, predicate="within")):
                point = candidate
                break
        out.append(point)
    return out


def _casualties(rng, activity: np.ndarray, device: np.ndarray) -> dict[str, np.ndarray]:
    """Killed and injured by girls, boys, women and men: one to three people per accident,
    children mostly while playing or herding, anti-tank mines the deadliest."""
    n = len(activity)
    out = {f"{o}_{p}": np.zeros(n, dtype=int) for o in ("killed", "injured")
           for p in ("girls", "boys", "women", "men")}  # fmt: skip
    for i in range(n):
        child_share = {"playing": 0.9, "herding": 0.35, "collecting_scrap": 0.25}.get(
            activity[i], 0.05
        )
        deadly = 0.55 if device[i] == "AT_mine" else 0.25
        for _ in range(rng.choice([1, 2, 3], p=[0.75, 0.18, 0.07])):
            group = CHILDREN if rng.random() < child_share else ADULTS
            who = rng.choice(list(group), p=list(group.values()))
            out[f"{'killed' if rng.random() < deadly else 'injured'}_{who}"][i] += 1
    return out
