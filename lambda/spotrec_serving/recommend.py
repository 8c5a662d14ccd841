"""Recommendations for up to 5 seeds (tracks, artists and genres), merged from precomputed lists.

Each seed has a precomputed list in the store: ``N#<model>#<track>`` for a track seed,
``AS#<model>#<artist>`` for an artist seed (its top tracks' lists fused in batch,
batch/spotrec/writers/artists.py), ``G#<model>#<genre>`` for a genre seed, holding catalogue
indexes and scores only. A warm
request costs at most 2 store round trips (the CURRENT pointer cached):

1. every seed's list in ONE ``get_items`` call; each candidate's track id, song key and 14
   tunable features come from the run's catalogue columns, cached in the process
   (catalogue.py), so filtering and merging need no further read;
2. ONE ``get_items`` of the picked tracks' ``T#`` items (<= 100): display fields and the exact
   audio features of what is returned.

Merging (``limit`` mode) is reciprocal rank fusion (fusion.py, the one implementation the
batch blend shares), every seed's list weighted 1:

    score(song) = sum over seeds of 1 / (RRF_K + rank of the song in that seed's list)

Ties go to the better single rank, then to the earlier seed. The reported `score` is the fused
RRF score. With ``session_id`` the session summary comes in the first read too, and
session.react adds liked tracks as lighter seeds and applies skips/plays (session.py).

``per_seed=N`` mode (the original project's "N recommendations for each song"): each seed's
list contributes its N best remaining songs, interleaved in seed order (seed 1's first, seed 2's
first, ..., seed 1's second, ...). The total is N x seeds, capped at 100; `limit` cannot be
combined with it. The reported `score` is the similarity from that seed's list.

Both modes exclude the seed tracks, every variant of a seed (same song_id), and keep at most
one track per song (the variant met first, at the best rank).

Tunable attributes (``min_*``/``max_*``/``target_*``, tuning.py): filters drop candidates from
every seed's list before merging, judged on the cached catalogue features widened by their
quantisation bound (items.feature_bound), so no track that truly passes is lost; the picked
tracks are then checked against their EXACT values in the T# items of the second read, and a
track that fails (only possible within the bound of a filter's edge) is replaced by the next in
rank, at the cost of one more read. Targets re-rank the merged pool (tuning.rerank); in
``per_seed`` mode each seed's own list is re-ranked before interleaving.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spotrec_serving import pools, reasons
from spotrec_serving.catalogue import Candidate, Catalogue
from spotrec_serving.errors import BadRequest, NotFound, ServiceUnavailable
from spotrec_serving.fusion import RRF_K, fuse_ranked_lists  # noqa: F401 (RRF_K re-export)
from spotrec_serving.items import (
    TrackSummary,
    artist_seed_key,
    genre_key,
    neighbours_key,
    track_key,
    unpack_list,
)
from spotrec_serving.release import current_release, fetch_items, release_catalogue
from spotrec_serving.spotify import artist_href, seed_object, track_href, track_object
from spotrec_serving.store import ItemStore
from spotrec_serving.tuned_pool import apply_filters, certainly_passes, exact_features
from spotrec_serving.tuning import NO_TUNING, Tuning, rerank, satisfies
from spotrec_serving.validation import MAX_SEEDS

if TYPE_CHECKING:
    from spotrec_serving.event_store import EventStore

MAX_RESULTS = 100


Ranked = list[tuple[float, "Candidate"]]  # (score, track), best first


@dataclass(frozen=True, slots=True)
class RecommendationRequest:
    seed_tracks: tuple[str, ...] = ()
    seed_genres: tuple[str, ...] = ()
    seed_artists: tuple[str, ...] = ()
    limit: int = 20
    per_seed: int | None = None
    model: str | None = None
    session_id: str | None = None  # events: react within the session (session.py)
    tuning: Tuning = NO_TUNING  # min_*/max_*/target_* (tuning.py)


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


def _seed_keys(request: RecommendationRequest, model: str) -> list[tuple[str, str, str]]:
    seeds = [(t, "TRACK", neighbours_key(model, t)) for t in request.seed_tracks]
    seeds += [(a, "ARTIST", artist_seed_key(model, a)) for a in request.seed_artists]
    seeds += [(g, "GENRE", genre_key(model, g)) for g in request.seed_genres]
    return seeds


def _seed_lists(
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


def check_seed_shape(request: RecommendationRequest) -> None:
    """The checks that need no store: run before any read, so bad input is a 400 even when the
    store is down or no release is published."""
    count = len(request.seed_tracks) + len(request.seed_artists) + len(request.seed_genres)
    if count == 0:
        raise BadRequest(
            "at least one seed is required: seed_tracks, seed_artists and/or seed_genres"
        )
    if count > MAX_SEEDS:
        raise BadRequest(
            f"too many seeds: {count} (at most {MAX_SEEDS}, tracks, artists and genres together)"
        )
    for name, values in (
        ("seed_tracks", request.seed_tracks),
        ("seed_artists", request.seed_artists),
        ("seed_genres", request.seed_genres),
    ):
        if len(set(values)) != len(values):
            raise BadRequest(f"duplicate entry in {name}")


def check_seeds(request: RecommendationRequest, genres: Iterable[str]) -> None:
    check_seed_shape(request)
    known = set(genres)
    for genre in request.seed_genres:
        if genre not in known:
            raise BadRequest(
                f"unknown genre {genre[:40]!r}; see /v1/recommendations/available-genre-seeds"
            )


def recommend(
    store: ItemStore,
    base_url: str,
    request: RecommendationRequest,
    event_store: EventStore | None = None,
) -> dict:
    release = current_release(store)
    model = release.resolve_model(request.model)
    check_seeds(request, release.genres)
    seeds = _seed_keys(request, model)
    list_keys = [key for _, _, key in seeds]
    keys = list_keys + reasons.extra_keys(
        model, release.models, request.seed_tracks, request.seed_artists
    )  # same read
    catalogue = release_catalogue(store, release)
    tuning = request.tuning
    # Tuned: merge deeper than `limit`, so re-ranking and exact checks can reach further down.
    depth = MAX_RESULTS if tuning.active else request.limit
    summary, pool_plan = None, pools.NO_POOLS
    if request.session_id and event_store is not None:
        # events: the session summary comes in the same store read (session.py)
        from spotrec_serving import session

        docs, summary = session.fetch(store, event_store, release.run_id, keys, request.session_id)
    else:  # the seeds' fallback pools (if the request may run short) come in the same read
        pool_plan = pools.plan(store, release, catalogue, request)
        docs = fetch_items(store, release.run_id, keys + pool_plan.keys)
    seed_lists = _seed_lists(seeds, docs, catalogue)
    apply_filters(seed_lists, catalogue, tuning)
    if request.per_seed is not None and tuning.targets:
        for seed_list in seed_lists:
            seed_list.candidates = rerank(seed_list.candidates, catalogue_features, tuning)
    if summary is not None:
        picked = session.react(seed_lists, summary, catalogue, depth, request.per_seed)
    elif request.per_seed is not None:
        if any(len(s.candidates) < request.per_seed for s in seed_lists) and pool_plan.per_seed:
            pools.deepen(seed_lists, pool_plan, docs, catalogue, tuning, list_keys)  # runs short
            for seed_list in seed_lists:
                seed_list.fallback = rerank(seed_list.fallback, catalogue_features, tuning)
        picked = interleave_per_seed(seed_lists, request.per_seed)
    else:
        picked = fuse_reciprocal_rank(seed_lists, depth)
        if len(picked) < request.limit and not pool_plan.per_seed and summary is None:
            # shorter lists than the plan expected (a listening list with little evidence):
            # read the pools now, one more round trip, rather than answer short
            pool_plan = pools.plan(store, release, catalogue, request, force=True)
            docs.update(
                fetch_items(store, release.run_id, pool_plan.keys) if pool_plan.keys else {}
            )
    fallback = pool_plan.per_seed and request.per_seed is None

    def fallback_tier(taken: Ranked, room: int) -> Ranked:  # pools.py: after every real one
        pools.deepen(seed_lists, pool_plan, docs, catalogue, tuning, list_keys)
        return pools.fallback_tier(seed_lists, pool_plan, taken, room, tuning, catalogue_features)

    if request.per_seed is None:
        picked = rerank(picked, catalogue_features, tuning)
        if fallback and len(picked) < request.limit:  # short: the fallback tier, same reads
            picked, fallback = picked + fallback_tier(picked, depth - len(picked)), False
    limit = len(picked) if request.per_seed is not None else request.limit
    chosen = pick_exact(store, release.run_id, picked, limit, tuning, catalogue)
    if fallback and len(chosen) < limit:
        # exact values dropped picked tracks (inside the quantisation bound of a filter's
        # edge, e.g. instrumentalness near 0) and left the page short: one more read, rare
        extra = fallback_tier(picked, MAX_RESULTS)
        chosen += pick_exact(store, release.run_id, extra, limit - len(chosen), tuning, catalogue)
        picked = picked + extra
    explained = seed_lists
    if summary is not None and request.per_seed is None:
        explained = [*seed_lists, *session.liked_seed_lists(summary, seed_lists, catalogue)]
    facts = reasons.seed_facts(explained, docs, catalogue, model, release.meta)
    return _response(base_url, seed_lists, chosen, facts, {c.id: c for _, c in picked})


def catalogue_features(candidate: Candidate) -> dict[str, float | int]:
    return candidate.features


SEED_HREFS = {"TRACK": track_href, "ARTIST": artist_href}


def _response(
    base_url: str,
    seed_lists: list[SeedList],
    chosen: list[tuple[float, dict]],
    facts: list[reasons.SeedFacts],
    candidates: dict[str, Candidate],
) -> dict:
    tracks = []
    for score, doc in chosen:
        summary = TrackSummary.decode(doc["track"])
        track = track_object(summary, base_url, score)
        track["reasons"] = reasons.reasons_for(candidates[summary.id], summary, facts)
        tracks.append(track)
    return {
        "seeds": [
            seed_object(
                s.seed_id,
                s.seed_type,
                SEED_HREFS[s.seed_type](base_url, s.seed_id) if s.seed_type in SEED_HREFS else None,
                s.pool_size + s.fallback_pool,
                len(s.candidates) + len(s.fallback),
            )
            for s in seed_lists
        ],
        "tracks": tracks,
    }
