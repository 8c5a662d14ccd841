"""Each seed's candidate list, read from its precomputed list, and the two ways they merge.

``read_seed_lists`` unpacks the seeds' lists (N#, AS#, G# items, catalogue indexes and score
codes) into ``SeedList``s, dropping the seed tracks and every variant of a seed (same song).
``fuse_reciprocal_rank`` merges them in ``limit`` mode (fusion.py, the one rank fusion);
``interleave_per_seed`` in ``per_seed`` mode. recommend.py documents both modes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spotrec_serving.errors import NotFound, ServiceUnavailable
from spotrec_serving.fusion import fuse_ranked_lists
from spotrec_serving.items import artist_seed_key, genre_key, neighbours_key, unpack_list
from spotrec_serving.validation import MAX_RESULTS

if TYPE_CHECKING:
    from spotrec_serving.catalogue import Candidate, Catalogue
    from spotrec_serving.recommend import RecommendationRequest

Ranked = list[tuple[float, "Candidate"]]  # (score, track), best first


@dataclass(slots=True)
class SeedList:
    """One seed's candidates after removing seeds and their variants, in rank order."""

    seed_id: str
    seed_type: str  # "TRACK" | "ARTIST" | "GENRE"
    pool_size: int
    candidates: list[tuple[float, Candidate]]
    weight: float = 1.0  # a session's liked tracks join the fusion as lighter seeds
    seed_index: int | None = None  # a track seed's catalogue index (its list's header)
    # pools.py: the genre fallback, filled only when the request runs short (after candidates)
    fallback: list[tuple[float, Candidate]] = field(default_factory=list)
    fallback_pool: int = 0  # fallback entries before filtering (counted in the seed object)


def fuse_reciprocal_rank(seed_lists: Iterable[SeedList], limit: int) -> Ranked:
    """Each seed's list counts its weight (fusion.fuse_ranked_lists); one track per song."""
    return fuse_ranked_lists(
        ((s.weight, [candidate for _, candidate in s.candidates]) for s in seed_lists),
        group=lambda candidate: candidate.song_id,
        limit=limit,
    )


def interleave_per_seed(seed_lists: list[SeedList], per_seed: int) -> Ranked:
    total = min(per_seed * len(seed_lists), MAX_RESULTS)
    taken_songs: set[int] = set()
    positions = [0] * len(seed_lists)
    result: Ranked = []
    for _ in range(per_seed):
        for index, seed_list in enumerate(seed_lists):
            candidates = seed_list.candidates + seed_list.fallback  # fallback after the list
            while positions[index] < len(candidates):
                score, summary = candidates[positions[index]]
                positions[index] += 1
                if summary.song_id not in taken_songs:
                    taken_songs.add(summary.song_id)
                    result.append((score, summary))
                    break
            if len(result) == total:
                return result
    return result


def seed_keys(request: RecommendationRequest, model: str) -> list[tuple[str, str, str]]:
    seeds = [(t, "TRACK", neighbours_key(model, t)) for t in request.seed_tracks]
    seeds += [(a, "ARTIST", artist_seed_key(model, a)) for a in request.seed_artists]
    seeds += [(g, "GENRE", genre_key(model, g)) for g in request.seed_genres]
    return seeds


def read_seed_lists(
    seeds: list[tuple[str, str, str]], docs: dict, catalogue: Catalogue
) -> list[SeedList]:
    unknown = [seed_id for seed_id, kind, key in seeds if kind == "TRACK" and key not in docs]
    if unknown:
        raise NotFound(f"unknown track id(s): {', '.join(unknown)}")
    unknown = [seed_id for seed_id, kind, key in seeds if kind == "ARTIST" and key not in docs]
    if unknown:
        raise NotFound(f"unknown artist id(s): {', '.join(unknown)}")
    missing = [seed_id for seed_id, kind, key in seeds if kind == "GENRE" and key not in docs]
    if missing:  # META lists the genre but its list is absent: a broken release, not bad input
        raise ServiceUnavailable(f"the release has no list for genre(s): {', '.join(missing)}")
    raw = [(seed_id, kind, unpack_list(docs[key])) for seed_id, kind, key in seeds]
    # A track seed's own song covers the seed and all its variants (the list header names it).
    excluded_songs = {
        catalogue.song(ranked.seed)
        for _, kind, ranked in raw
        if kind == "TRACK" and ranked.seed is not None
    }
    songs, candidate = catalogue.songs, catalogue.candidate
    lists = []
    for seed_id, kind, ranked in raw:
        lo, step, codes = ranked.score_lo, (ranked.score_hi - ranked.score_lo) / 255, ranked.codes
        candidates = [
            (lo + codes[rank0] * step, candidate(index))
            for rank0, index in enumerate(ranked.indexes)
            if songs[index] not in excluded_songs
        ]
        lists.append(SeedList(seed_id, kind, len(ranked), candidates, seed_index=ranked.seed))
    return lists
