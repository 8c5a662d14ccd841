"""Recommendations for up to 5 seeds (tracks and genres), merged from precomputed lists.

Each seed has a precomputed list in the store: ``N#<model>#<track>`` for a track seed,
``G#<model>#<genre>`` for a genre seed, holding catalogue indexes and scores only. A warm
request costs at most 2 store round trips (the CURRENT pointer cached):

1. every seed's list in ONE ``get_items`` call; each candidate's track id, song key and 14
   tunable features come from the run's catalogue columns, cached in the process
   (catalogue.py), so filtering and merging need no further read;
2. ONE ``get_items`` of the picked tracks' ``T#`` items (<= 100): display fields and the exact
   audio features of what is returned.

Merging (``limit`` mode) is reciprocal rank fusion (Cormack, Clarke & Büttcher, 2009):

    score(song) = sum over seeds of 1 / (RRF_K + rank of the song in that seed's list)

Why RRF: it uses ranks only, so lists whose scores are not comparable (cosine similarities of
different models, a genre list ordered by representativeness) fuse fairly; a song close to
several seeds rises above one that is very close to a single seed; and it needs no training.
k = 60 is the value from the paper: it flattens the weight of the first few ranks, so one seed's
top hit does not outweigh agreement between seeds. Ties go to the better single rank, then to
the earlier seed. The reported `score` is the fused RRF score.

``per_seed=N`` mode (the original project's "N recommendations for each song"): each seed's
list contributes its N best remaining songs, interleaved in seed order (seed 1's first, seed 2's
first, ..., seed 1's second, ...). The total is N x seeds, capped at 100; `limit` cannot be
combined with it. The reported `score` is the similarity from that seed's list.

Both modes exclude the seed tracks, every variant of a seed (same song_id), and keep at most
one track per song (the variant met first, at the best rank).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from spotrec_serving.catalogue import Candidate, Catalogue
from spotrec_serving.errors import BadRequest, NotFound, ServiceUnavailable
from spotrec_serving.items import TrackSummary, genre_key, neighbours_key, track_key, unpack_list
from spotrec_serving.release import current_release, fetch_items, release_catalogue
from spotrec_serving.spotify import seed_object, track_href, track_object
from spotrec_serving.store import ItemStore

RRF_K = 60
MAX_RESULTS = 100
MAX_SEEDS = 5


Ranked = list[tuple[float, "Candidate"]]  # (score, track), best first


@dataclass(frozen=True, slots=True)
class RecommendationRequest:
    seed_tracks: tuple[str, ...] = ()
    seed_genres: tuple[str, ...] = ()
    limit: int = 20
    per_seed: int | None = None
    model: str | None = None


@dataclass(slots=True)
class SeedList:
    """One seed's candidates after removing seeds and their variants, in rank order."""

    seed_id: str
    seed_type: str  # "TRACK" | "GENRE"
    pool_size: int
    candidates: list[tuple[float, Candidate]]


def fuse_reciprocal_rank(seed_lists: Iterable[SeedList], limit: int) -> Ranked:
    fused: dict[int, float] = {}
    best: dict[int, tuple[int, int, Candidate]] = {}  # song -> (rank, seed order, candidate)
    for seed_order, seed_list in enumerate(seed_lists):
        for rank, (_, summary) in enumerate(seed_list.candidates, start=1):
            song = summary.song_id
            fused[song] = fused.get(song, 0.0) + 1.0 / (RRF_K + rank)
            # Seeds come in order, so a later seed wins a song only with a strictly better rank.
            if song not in best or rank < best[song][0]:
                best[song] = (rank, seed_order, summary)
    # Up to 1,000 fused songs at depth 200: select the top `limit` instead of sorting them all.
    ordered = heapq.nsmallest(
        limit, fused, key=lambda song: (-fused[song], best[song][0], best[song][1])
    )
    return [(fused[song], best[song][2]) for song in ordered]


def interleave_per_seed(seed_lists: list[SeedList], per_seed: int) -> Ranked:
    total = min(per_seed * len(seed_lists), MAX_RESULTS)
    taken_songs: set[int] = set()
    positions = [0] * len(seed_lists)
    result: Ranked = []
    for _ in range(per_seed):
        for index, seed_list in enumerate(seed_lists):
            candidates = seed_list.candidates
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


def _seed_keys(request: RecommendationRequest, model: str) -> list[tuple[str, str, str]]:
    seeds = [(t, "TRACK", neighbours_key(model, t)) for t in request.seed_tracks]
    seeds += [(g, "GENRE", genre_key(model, g)) for g in request.seed_genres]
    return seeds


def _seed_lists(
    seeds: list[tuple[str, str, str]], docs: dict, catalogue: Catalogue
) -> list[SeedList]:
    unknown = [seed_id for seed_id, kind, key in seeds if kind == "TRACK" and key not in docs]
    if unknown:
        raise NotFound(f"unknown track id(s): {', '.join(unknown)}")
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
        lists.append(SeedList(seed_id, kind, len(ranked), candidates))
    return lists


def picked_tracks(store: ItemStore, run_id: str, picked: Ranked) -> list[tuple[float, dict]]:
    """The T# documents of the picked candidates (one get_items of <= 100 keys), in order."""
    docs = fetch_items(store, run_id, [track_key(c.id) for _, c in picked])
    missing = [c.id for _, c in picked if track_key(c.id) not in docs]
    if missing:  # the run's lists name a track it lacks: a broken release, not bad input
        raise ServiceUnavailable(f"the release lacks track item(s): {', '.join(missing[:3])}")
    return [(score, docs[track_key(c.id)]) for score, c in picked]


def check_seeds(request: RecommendationRequest, genres: Iterable[str]) -> None:
    count = len(request.seed_tracks) + len(request.seed_genres)
    if count == 0:
        raise BadRequest("at least one seed is required: seed_tracks and/or seed_genres")
    if count > MAX_SEEDS:
        raise BadRequest(
            f"too many seeds: {count} (at most {MAX_SEEDS}, tracks and genres together)"
        )
    for name, values in (
        ("seed_tracks", request.seed_tracks),
        ("seed_genres", request.seed_genres),
    ):
        if len(set(values)) != len(values):
            raise BadRequest(f"duplicate entry in {name}")
    known = set(genres)
    for genre in request.seed_genres:
        if genre not in known:
            raise BadRequest(
                f"unknown genre {genre[:40]!r}; see /v1/recommendations/available-genre-seeds"
            )


def recommend(store: ItemStore, base_url: str, request: RecommendationRequest) -> dict:
    release = current_release(store)
    model = release.resolve_model(request.model)
    check_seeds(request, release.genres)
    seeds = _seed_keys(request, model)
    catalogue = release_catalogue(store, release)
    docs = fetch_items(store, release.run_id, [key for _, _, key in seeds])
    seed_lists = _seed_lists(seeds, docs, catalogue)
    if request.per_seed is not None:
        picked = interleave_per_seed(seed_lists, request.per_seed)
    else:
        picked = fuse_reciprocal_rank(seed_lists, request.limit)
    return {
        "seeds": [
            seed_object(
                s.seed_id,
                s.seed_type,
                track_href(base_url, s.seed_id) if s.seed_type == "TRACK" else None,
                s.pool_size,
                len(s.candidates),
            )
            for s in seed_lists
        ],
        "tracks": [
            track_object(TrackSummary.decode(doc["track"]), base_url, score)
            for score, doc in picked_tracks(store, release.run_id, picked)
        ],
    }
