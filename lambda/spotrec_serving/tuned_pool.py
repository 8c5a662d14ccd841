"""Tunable filters on the compact layout: the seed lists are filtered on the catalogue's cached,
quantised feature codes (catalogue.py), widened by each feature's quantisation bound
(items.feature_bound) so that no track that truly passes is dropped; ``pick_exact`` then
decides on the EXACT values of the picked tracks' T# items (``exact_features``), read with
``picked_tracks``. The parameters, ranges and the target formula are tuning.py's."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from spotrec_serving.errors import ServiceUnavailable
from spotrec_serving.items import FEATURES, TrackSummary, decode_feature, feature_bound, track_key
from spotrec_serving.release import fetch_items
from spotrec_serving.tuning import satisfies
from spotrec_serving.validation import MAX_RESULTS

if TYPE_CHECKING:
    from spotrec_serving.catalogue import Catalogue
    from spotrec_serving.seed_lists import Ranked, SeedList
    from spotrec_serving.store import ItemStore
    from spotrec_serving.tuning import Tuning


def exact_features(doc: dict) -> dict[str, float]:
    """A T# item's exact values of the 14 tunable attributes."""
    summary = TrackSummary.decode(doc["track"])
    return {
        **doc["features"],
        "duration_ms": summary.duration_ms,
        "popularity": summary.popularity,
    }


def _bounds_check(catalogue: Catalogue, tuning: Tuning, widen: float):
    """index -> every filtered attribute's decoded code within its bounds, each bound moved
    OUT by ``widen`` x the quantisation bound (widen < 0 moves it in)."""
    width, codes = len(FEATURES), catalogue.codes
    checks = []
    for position, name in enumerate(FEATURES):
        if name in tuning.minimums or name in tuning.maximums:
            lo, hi, integer = catalogue.ranges[name]
            slack = widen * feature_bound(lo, hi, integer)
            low = tuning.minimums.get(name, -math.inf) - slack
            high = tuning.maximums.get(name, math.inf) + slack
            checks.append((position, lo, hi, integer, low, high))

    def passes(index: int) -> bool:
        base = index * width
        return all(
            low <= decode_feature(codes[base + position], lo, hi, integer) <= high
            for position, lo, hi, integer, low, high in checks
        )

    return passes


def certainly_passes(catalogue: Catalogue, tuning: Tuning):
    """index -> True when the track passes every filter whatever its exact values (its codes
    sit more than the quantisation bound inside every bound): pick_exact reads, in
    one go, as many uncertain tracks as it needs to reach ``limit`` certain ones."""
    return _bounds_check(catalogue, tuning, -1.01)


def apply_filters(seed_lists: list[SeedList], catalogue: Catalogue, tuning: Tuning) -> None:
    """Drop the candidates whose (quantised) features certainly fail a min/max filter: each
    filtered attribute's code is decoded and compared with the bounds widened by the
    quantisation bound (only the filtered attributes: a 5-seed request has ~1,000 candidates)."""
    if not tuning.filters:
        return
    # 1% over the bound: float rounding in decode must not drop a track on the edge
    may_pass = _bounds_check(catalogue, tuning, 1.01)
    for seed_list in seed_lists:
        seed_list.candidates = [(s, c) for s, c in seed_list.candidates if may_pass(c.index)]


def picked_tracks(store: ItemStore, run_id: str, picked: Ranked) -> list[tuple[float, dict]]:
    """The T# documents of the picked candidates (one get_items of <= 100 keys), in order."""
    docs = fetch_items(store, run_id, [track_key(c.id) for _, c in picked])
    missing = [c.id for _, c in picked if track_key(c.id) not in docs]
    if missing:  # the run's lists name a track it lacks: a broken release, not bad input
        raise ServiceUnavailable(f"the release lacks track item(s): {', '.join(missing[:3])}")
    return [(score, docs[track_key(c.id)]) for score, c in picked]


def pick_exact(
    store: ItemStore,
    run_id: str,
    ranked: Ranked,
    limit: int,
    tuning: Tuning,
    catalogue: Catalogue | None = None,
) -> list[tuple[float, dict]]:
    """The first ``limit`` of ``ranked`` whose exact T# values pass every filter. With the
    catalogue, one read takes every uncertain track (within the quantisation bound of a
    filter's edge) on the way to ``limit`` certain ones, so a next read is needed only when
    uncertain tracks truly fail (or past 100 keys)."""
    if not tuning.filters:
        return picked_tracks(store, run_id, ranked[:limit])
    sure = certainly_passes(catalogue, tuning) if catalogue is not None else None
    chosen: list[tuple[float, dict]] = []
    start = 0
    while len(chosen) < limit and start < len(ranked):
        need, stop = limit - len(chosen), start
        while stop < len(ranked) and need > 0 and stop - start < MAX_RESULTS:
            need -= 1 if sure is None or sure(ranked[stop][1].index) else 0
            stop += 1
        batch, start = ranked[start:stop], stop
        chosen += [
            (score, doc)
            for score, doc in picked_tracks(store, run_id, batch)
            if satisfies(exact_features(doc), tuning)
        ]
    return chosen[:limit]  # uncertain tracks that pass after all may overfill the last read
