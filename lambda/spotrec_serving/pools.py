"""Fallback pools: deepen a seed's pool from its genres when its stored list runs short.

A seed's precomputed list is ``depth`` deep (items.py). Hard filters (``min_*``/``max_*``) or
a large ``limit`` can leave fewer candidates than the request asks for; rather than return
fewer tracks silently, the request falls back to the seed's genres:

* ``P#<genre>`` (packed like a G# list, model-independent): the genre's tracks, one per song,
  most popular first (ties by id), at most META ``fallback_pool_size`` of them (default 1,000,
  about the whole genre on the Spotify Tracks catalogue: 4 KB an item). Score = popularity.
* ``GC#<block>``: every track's genre codes (positions in META ``genres``), so a request knows
  its track seeds' genres from memory; cached per process and run like the C# columns.
  Layout: u32 count n | (n + 1) x u32 offsets into the codes | u16 codes.

Round trips stay at two. The seeds' genres come from the cached codes, so their ``P#`` items
are read in the SAME get_items as the seed lists, and the tracks picked from them get their T#
items in the second read with the others. Pools are read only when a request may run short
(``plan``: any min/max filter, or more tracks wanted than half META top_n, the depth every
list has), and used only when it does; a list shorter than that (a listening list is its
evidence then a top_n content fill, so rarely) gets its pools in one more read. No request
scans the catalogue: a pool is a bounded, precomputed list.

Order: fallback tracks always rank after every real neighbour. Within the fallback, a track
seed's pool (the union of its genres' pools, minus its stored list and the seeds' songs, then
filtered exactly like the list) is ranked by closeness of sound to the seed (mean
spread-scaled distance over SOUND_FEATURES, on the cached feature codes); a genre seed's pool
keeps popularity order. The seeds' fallback lists are fused by the same reciprocal rank fusion
(fusion.py) with ranks counted after a full stored list (k = RRF_K + depth), re-ranked by
targets within the fallback tier, and a fallback score is capped at the last real one, so
scores never rise down the page. Seed objects count the pool they really drew from: once the
fallback is used, initialPoolSize and afterFilteringSize include the seed's fallback pool.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from spotrec_serving.fusion import RRF_K, fuse_ranked_lists
from spotrec_serving.items import FEATURES, decode_feature, unpack_list
from spotrec_serving.release import RunCache, fetch_blocks
from spotrec_serving.tuning import DEFAULT_SPREADS, rerank

if TYPE_CHECKING:
    from spotrec_serving.catalogue import Candidate, Catalogue
    from spotrec_serving.recommend import RecommendationRequest
    from spotrec_serving.release import Release
    from spotrec_serving.seed_lists import SeedList
    from spotrec_serving.store import ItemStore
    from spotrec_serving.tuning import Tuning

SOUND_FEATURES = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "loudness",
    "speechiness",
    "tempo",
    "valence",
)
_COUNT = struct.Struct("<I")
_genre_codes = RunCache(2)  # the current run and the one before it, as the catalogue


def pool_key(genre: str) -> str:
    return f"P#{genre}"


def genre_codes_key(block: int) -> str:
    return f"GC#{block}"


def pack_genre_codes(codes: list[list[int]]) -> bytes:
    offsets = array("I", [0])
    flat = array("H")
    for track_codes in codes:
        flat.extend(track_codes)
        offsets.append(len(flat))
    return _COUNT.pack(len(codes)) + offsets.tobytes() + flat.tobytes()


@dataclass
class GenreCodes:
    """Every track's genre codes, by catalogue index (concatenated GC# blocks)."""

    offsets: array = field(default_factory=lambda: array("I", [0]))
    codes: array = field(default_factory=lambda: array("H"))

    def add_block(self, data: bytes) -> None:
        (count,) = _COUNT.unpack_from(data)
        offsets = array("I")
        offsets.frombytes(data[4 : 4 + 4 * (count + 1)])
        base = len(self.codes)
        self.offsets.extend(base + offset for offset in offsets[1:])
        self.codes.frombytes(data[4 + 4 * (count + 1) :])

    def of(self, index: int) -> list[int]:
        return list(self.codes[self.offsets[index] : self.offsets[index + 1]])


def release_genre_codes(store: ItemStore, release: Release) -> GenreCodes:
    """The run's GC# blocks, read once per process and run (as release.release_catalogue)."""
    codes = _genre_codes.get(store, release.run_id)
    if codes is None:
        keys = [genre_codes_key(b) for b in range(int(release.meta["genre_code_blocks"]))]
        codes = GenreCodes()
        for block in fetch_blocks(store, release, keys, "genre code"):
            codes.add_block(block)
        _genre_codes.put(store, release.run_id, codes)
    return codes


@dataclass(frozen=True)
class PoolPlan:
    """Per seed (request order), the P# keys its fallback may draw from."""

    per_seed: list[list[str]]
    offset: int  # ranks of fallback entries count after a list this deep

    @property
    def keys(self) -> list[str]:
        return sorted({key for keys in self.per_seed for key in keys})


NO_POOLS = PoolPlan([], 0)


def plan(
    store: ItemStore,
    release: Release,
    catalogue: Catalogue,
    request: RecommendationRequest,
    force: bool = False,
) -> PoolPlan:
    """The pools to read with the seed lists, or NO_POOLS when the request cannot run short
    (unless ``force``: it did) or the release has none (written before pools, or with
    fallback_pool_size 0)."""
    meta = release.meta
    if not meta.get("fallback_pool_size"):
        return NO_POOLS
    depth = min(int(meta.get("depth") or 0), int(meta.get("top_n") or meta.get("depth") or 0))
    seeds = len(request.seed_tracks) + len(request.seed_artists) + len(request.seed_genres)
    wanted = request.per_seed * seeds if request.per_seed is not None else request.limit
    if not (force or request.tuning.filters) and 2 * wanted <= depth:
        return NO_POOLS
    genres = release.genres
    codes = release_genre_codes(store, release)
    per_seed = []
    for track_id in request.seed_tracks:
        index = catalogue.index_of(track_id)
        seed_codes = [] if index is None else codes.of(index)
        per_seed.append([pool_key(genres[code]) for code in seed_codes])
    # in the seed lists' order (seed_lists.seed_keys): an artist seed has no pool of its own,
    # its genres are only known once its A# item is read
    per_seed += [[] for _ in request.seed_artists]
    per_seed += [[pool_key(genre)] for genre in request.seed_genres]
    return PoolPlan(per_seed, depth)


def _sound_distance(catalogue: Catalogue, seed: int):
    """index -> mean spread-scaled |feature - seed's| over SOUND_FEATURES (cached codes)."""
    width, codes = len(FEATURES), catalogue.codes
    columns = [
        (FEATURES.index(name), *catalogue.ranges[name], DEFAULT_SPREADS[name])
        for name in SOUND_FEATURES
    ]
    base = seed * width
    seed_values = [decode_feature(codes[base + p], lo, hi, i) for p, lo, hi, i, _ in columns]

    def distance(index: int) -> float:
        row = index * width
        return sum(
            abs(decode_feature(codes[row + p], lo, hi, integer) - value) / spread
            for (p, lo, hi, integer, spread), value in zip(columns, seed_values, strict=True)
        )

    return distance


def deepen(
    seed_lists: list[SeedList],
    pool_plan: PoolPlan,
    docs: dict,
    catalogue: Catalogue,
    tuning: Tuning,
    seed_keys: list[str],
) -> None:
    """Fill each seed list's ``fallback`` (ranked, filtered) and ``fallback_pool`` (entries
    before filtering); ``seed_keys`` = each seed's list key, as read."""
    from spotrec_serving.seed_lists import SeedList
    from spotrec_serving.tuned_pool import apply_filters

    seed_songs = set()
    for seed_list in seed_lists:
        if seed_list.seed_type == "TRACK":
            index = catalogue.index_of(seed_list.seed_id)
            if index is not None:
                seed_songs.add(catalogue.song(index))
    songs, candidate = catalogue.songs, catalogue.candidate
    for seed_list, keys, list_key in zip(seed_lists, pool_plan.per_seed, seed_keys, strict=True):
        if seed_list.seed_type not in ("TRACK", "GENRE"):
            continue
        taken = seed_songs | {songs[i] for i in unpack_list(docs[list_key]).indexes}
        pool: list[int] = []
        for key in keys:
            body = docs.get(key)
            for index in unpack_list(body).indexes if isinstance(body, bytes) else ():
                if songs[index] not in taken:
                    taken.add(songs[index])
                    pool.append(index)
        view = SeedList(seed_list.seed_id, seed_list.seed_type, len(pool), [])
        view.candidates = [(0.0, candidate(index)) for index in pool]
        apply_filters([view], catalogue, tuning)
        kept = [c for _, c in view.candidates]
        seed = catalogue.index_of(seed_list.seed_id) if seed_list.seed_type == "TRACK" else None
        if seed is not None:  # closeness of sound to the seed, 1 = identical (tuning's scale)
            distance = _sound_distance(catalogue, seed)
            scored = [(1.0 / (1.0 + distance(c.index) / len(SOUND_FEATURES)), c) for c in kept]
            scored.sort(key=lambda pair: -pair[0])  # stable: popularity breaks ties
        else:  # a genre seed: popularity order, scored by popularity (0..1)
            scored = [(c.features["popularity"] / 100, c) for c in kept]
        # per_seed mode reports these: never above the seed's last real candidate
        cap = seed_list.candidates[-1][0] if seed_list.candidates else 1.0
        seed_list.fallback = [(min(score, cap), c) for score, c in scored]
        seed_list.fallback_pool = len(pool)


def fallback_tier(
    seed_lists: list[SeedList],
    pool_plan: PoolPlan,
    taken: list[tuple[float, Candidate]],
    room: int,
    tuning: Tuning,
    features_of,
) -> list[tuple[float, Candidate]]:
    """Up to ``room`` fallback tracks whose songs ``taken`` (the real tier) lacks, fused across
    seeds after every real neighbour; scores capped at the last real score."""
    songs = {c.song_id for _, c in taken}
    lists = [
        (s.weight, [c for _, c in s.fallback if c.song_id not in songs])
        for s in seed_lists
        if s.fallback
    ]
    fused = fuse_ranked_lists(
        lists, group=lambda c: c.song_id, limit=room, k=RRF_K + pool_plan.offset
    )
    fused = rerank(fused, features_of, tuning)
    if not taken:
        return fused
    floor = taken[-1][0]
    return [(min(score, floor), c) for score, c in fused]
