"""React within a session: recommendations that follow the listener's likes and skips.

GET /v1/recommendations?...&session_id=S reads the session summary (session_summary.py) in the
same store call as the seed lists, then ``react`` reorders the candidates. No model is loaded
and nothing more is read: everything needed was put into the summary by the write path.

Rules, in the order they apply:

1. Skipped tracks, and every variant of them (same song key in the run's catalogue), are never
   recommended again in the session.
2. Likes and saves are extra seeds: each liked track's stored top neighbours join the
   reciprocal rank fusion (seed_lists.fuse_reciprocal_rank, the one fusion) with weight
   LIKE_SEED_WEIGHT, below 1 so the seeds the client asked for still lead.
3. Skips push their close neighbours down: a candidate in a skipped track's top-10 has its
   fused score multiplied by NEAR_SKIP_FACTOR (once per such skip).
4. Tracks already played, and tracks already shown (event ``impression``), are demoted
   (score x SEEN_FACTOR) so the next page brings new music; they are not removed, so a short
   candidate pool still fills the page. A liked track is not demoted: it is wanted.

The summary names tracks by id (it outlives a release); they are mapped to the current run's
catalogue indexes and song keys through the cached catalogue (catalogue.index_of), so the
candidates are the compact layout's Candidate objects and nothing else is read. The reported
``score`` is the session-adjusted fused score. The factors are hand-set, not
learned; benchmarks/bench_events.py measures their effect on listeners with planted tastes.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from spotrec_serving.catalogue import Catalogue
from spotrec_serving.errors import ServiceUnavailable
from spotrec_serving.event_store import EventStore
from spotrec_serving.seed_lists import (
    Ranked,
    SeedList,
    fuse_reciprocal_rank,
    interleave_per_seed,
)
from spotrec_serving.session_summary import empty_summary, neighbour_id
from spotrec_serving.store import ItemStore, StoreError
from spotrec_serving.validation import MAX_RESULTS

logger = logging.getLogger(__name__)
LIKE_SEED_WEIGHT = 0.7
NEAR_SKIP_FACTOR = 0.5
SEEN_FACTOR = 0.3
SEEN_EVENTS = {"play"}  # a liked track stays: the listener wants it, it is a seed now


def fetch(
    store: ItemStore, event_store: EventStore, run_id: str, keys: Sequence[str], session_id: str
) -> tuple[dict[str, dict], dict]:
    """The seed lists and the session summary (empty for a new session), store errors -> 503."""
    try:
        docs, summary = event_store.fetch_with_summary(store, run_id, keys, session_id)
    except StoreError as exc:
        logger.warning("store failure: %s", exc)
        raise ServiceUnavailable(
            "the recommendation store is unavailable; try again later"
        ) from exc
    return docs, summary or empty_summary()


def _indexes(catalogue: Catalogue, track_ids) -> set[int]:
    """Catalogue indexes of track ids (ids the current run lacks are left out)."""
    found = (catalogue.index_of(track_id) for track_id in track_ids)
    return {index for index in found if index is not None}


def _skipped(summary: dict, catalogue: Catalogue) -> tuple[set[int], set[int]]:
    """(indexes, song keys) of the skipped tracks: song keys come from the run's catalogue."""
    skipped = _indexes(catalogue, (entry[0] for entry in summary["skipped"]))
    return skipped, {catalogue.song(index) for index in skipped}


def liked_seed_lists(
    summary: dict, seed_lists: list[SeedList], catalogue: Catalogue
) -> list[SeedList]:
    """Each liked track's stored neighbours as an extra, weighted seed list (seeds and their
    variants removed, as for the request's own seeds)."""
    seeds = _indexes(catalogue, (s.seed_id for s in seed_lists if s.seed_type == "TRACK"))
    seed_songs = {catalogue.song(index) for index in seeds}
    lists = []
    for track_id, weight, neighbours in summary["liked"]:
        candidates = []
        for score, entry in neighbours:
            index = catalogue.index_of(neighbour_id(entry))
            if index is not None and catalogue.song(index) not in seed_songs:
                candidates.append((float(score), catalogue.candidate(index)))
        lists.append(
            SeedList(track_id, "SESSION", len(neighbours), candidates, LIKE_SEED_WEIGHT * weight)
        )
    return lists


def adjust(pool: Ranked, summary: dict, catalogue: Catalogue) -> Ranked:
    """Rules 1, 3 and 4 over a fused pool; returns it re-sorted (stable for equal scores)."""
    skipped, skipped_songs = _skipped(summary, catalogue)
    near_skips: dict[int, int] = {}
    for _, _, near in summary["skipped"]:
        for index in _indexes(catalogue, near):
            near_skips[index] = near_skips.get(index, 0) + 1
    seen = _indexes(catalogue, summary["shown"])
    played = _indexes(catalogue, (e[1] for e in summary["events"] if e[3] in SEEN_EVENTS))
    seen |= played
    seen_songs = {catalogue.song(index) for index in played}
    adjusted = []
    for score, track in pool:
        if track.index in skipped or track.song_id in skipped_songs:
            continue
        score *= NEAR_SKIP_FACTOR ** near_skips.get(track.index, 0)
        if track.index in seen or track.song_id in seen_songs:
            score *= SEEN_FACTOR
        adjusted.append((score, track))
    adjusted.sort(key=lambda pair: -pair[0])
    return adjusted


def react(
    seed_lists: list[SeedList],
    summary: dict,
    catalogue: Catalogue,
    limit: int,
    per_seed: int | None = None,
) -> Ranked:
    """The session-aware answer for the request's seed lists (see the module doc)."""
    if per_seed is not None:
        # Per-seed mode keeps each seed's own order; only the skips apply (rule 1).
        skipped, skipped_songs = _skipped(summary, catalogue)
        kept = [
            SeedList(
                s.seed_id,
                s.seed_type,
                s.pool_size,
                [
                    c
                    for c in s.candidates
                    if c[1].index not in skipped and c[1].song_id not in skipped_songs
                ],
                s.weight,
            )
            for s in seed_lists
        ]
        return interleave_per_seed(kept, per_seed)
    extra = liked_seed_lists(summary, seed_lists, catalogue)
    pool = fuse_reciprocal_rank([*seed_lists, *extra], MAX_RESULTS)
    return adjust(pool, summary, catalogue)[:limit]
