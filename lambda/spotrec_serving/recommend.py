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
from dataclasses import dataclass
from typing import TYPE_CHECKING

from spotrec_serving import pools, reasons
from spotrec_serving.catalogue import Candidate
from spotrec_serving.errors import BadRequest
from spotrec_serving.items import TrackSummary
from spotrec_serving.release import current_release, fetch_items, release_catalogue
from spotrec_serving.seed_lists import (
    Ranked,
    SeedList,
    fuse_reciprocal_rank,
    interleave_per_seed,
    read_seed_lists,
    seed_keys,
)
from spotrec_serving.spotify import artist_href, seed_object, track_href, track_object
from spotrec_serving.store import ItemStore
from spotrec_serving.tuned_pool import apply_filters, pick_exact
from spotrec_serving.tuning import NO_TUNING, Tuning, rerank
from spotrec_serving.validation import MAX_RESULTS, MAX_SEEDS

if TYPE_CHECKING:
    from spotrec_serving.event_store import EventStore


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
    seeds = seed_keys(request, model)
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
    seed_lists = read_seed_lists(seeds, docs, catalogue)
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
