"""Why each pick: which seed(s) it came from, and what it shares with them, in a few words.

Computed at request time from what the recommendation already read, with no extra round trip
and no model:

- which seeds' lists hold the pick (its song), and at which rank: the merged seed lists;
- same artist / shared genre: the pick's T# item (second read) against the seed's T# item,
  read in the FIRST read together with the seed lists (a few more keys, same call);
- close tempo / energy: the cached catalogue's feature columns of pick and seed;
- listened together: only when a list that came from listening evidence holds the pick. A
  ``colistening`` list is its evidence entries, then a content fill whose rank-fusion weight
  (models/colistening.py FILL_WEIGHT = 1e-4) keeps every fill score under 1e-4 / (RRF_K + 1)
  while an evidence entry scores at least 1 / (RRF_K + top_n): entries scoring at least
  ``evidence_floor(top_n)`` are evidence, even after the u8 score quantisation (a batch test
  checks this on a built release). For a ``colistening`` request that is the seed's own list;
  for ``hybrid`` the seeds' ``colistening`` lists are read too (same call). Content models'
  requests never claim it: nothing they read says the tracks were listened to together.

A pick whose seed shares none of these with it still says which seed's list it came from
(kind ``similar``: the model placed it there for the sound as a whole). Session likes that
joined the merge as extra seeds (session.py) give kind ``liked_in_session``.

The response field is an extension of Spotify's track object (clients ignore unknown fields):
``"reasons": [{"seed", "seed_type", "rank", "kinds": [...], "text"}]``, best rank first.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

from spotrec_serving.fusion import RRF_K
from spotrec_serving.items import (
    RankedList,
    TrackSummary,
    artist_key,
    neighbours_key,
    track_key,
    unpack_list,
)

if TYPE_CHECKING:
    from spotrec_serving.catalogue import Candidate, Catalogue
    from spotrec_serving.seed_lists import SeedList

KINDS = (
    "same_artist",
    "shared_genre",
    "close_tempo",
    "close_energy",
    "listened_together",
    "liked_in_session",
    "similar",
)
# Hand-set, not learned: within 5 BPM two songs mix at one tempo with a few percent of pitch
# change; 0.08 is 8% of Spotify's 0..1 energy scale (about a third of its catalogue spread).
CLOSE_TEMPO_BPM = 5.0
CLOSE_ENERGY = 0.08
_CANDIDATE, _SONG, _RANK = itemgetter(1), attrgetter("song_id"), itemgetter("rank")
EVIDENCE_MODELS = ("colistening", "hybrid")
COLISTENING = "colistening"


def evidence_floor(top_n: int) -> float:
    """The lowest score of a listening-evidence entry in a colistening list, halved: safely above
    any content fill entry (<= 1e-4 / (RRF_K + 1), plus the u8 quantisation error)."""
    return 0.5 / (RRF_K + top_n)


def extra_keys(model: str, release_models: list[str], seed_tracks, seed_artists=()) -> list[str]:
    """What the reasons add to the request's FIRST read: the track seeds' T# items (artists,
    genres), the artist seeds' A# items (name, genres) and, for a hybrid request, the track
    seeds' colistening lists (listening evidence)."""
    keys = [track_key(seed) for seed in seed_tracks] + [artist_key(a) for a in seed_artists]
    if model == "hybrid" and COLISTENING in release_models:
        keys += [neighbours_key(COLISTENING, seed) for seed in seed_tracks]
    return keys


@dataclass(slots=True)
class SeedFacts:
    seed_id: str
    seed_type: str  # TRACK | ARTIST | GENRE | SESSION
    name: str
    ranks: dict[int, int]  # song key -> 1-based rank in this seed's list
    artists: frozenset[str] = frozenset()
    genres: frozenset[str] = frozenset()
    features: tuple[float, float] | None = None  # (tempo, energy)
    listened: set[int] = field(default_factory=set)  # song keys with listening evidence
    source: str = ""  # the text's opening, "From “<seed name>”: "


def evidence_count(ranked: RankedList, floor: float) -> int:
    """How many of a colistening list's entries are listening evidence: scores fall with rank,
    so it is the prefix whose u8 score codes decode to >= floor; counted at C speed
    (bytes.translate), not entry by entry, as this runs on every hybrid/colistening request."""
    step = (ranked.score_hi - ranked.score_lo) / 255
    if step <= 0:
        return len(ranked) if ranked.score_lo >= floor else 0
    lowest = min(256, max(0, math.ceil((floor - ranked.score_lo) / step)))
    return len(ranked.codes.translate(None, bytes(range(lowest))))


def _evidence_songs(data: bytes | None, catalogue: Catalogue, floor: float) -> set[int]:
    if not isinstance(data, bytes):
        return set()
    ranked = unpack_list(data)
    prefix = ranked.indexes[: evidence_count(ranked, floor)]
    if len(prefix) < 2:
        return {catalogue.songs[index] for index in prefix}
    return set(itemgetter(*prefix)(catalogue.songs))  # a C-level gather


def seed_facts(
    seed_lists: list[SeedList],
    docs: dict,
    catalogue: Catalogue,
    model: str,
    meta: dict,
) -> list[SeedFacts]:
    """What each seed list brings to the reasons (``docs``: the first read's items)."""
    floor = evidence_floor(int(meta.get("top_n") or meta.get("depth") or 200))
    facts = []
    for seed_list in seed_lists:
        # song key -> rank (a list holds one track per song); C-level iteration
        songs = map(_SONG, map(_CANDIDATE, seed_list.candidates))
        ranks = dict(zip(songs, itertools.count(1)))
        if seed_list.fallback:  # the genre pool (pools.py) ranks after every real neighbour
            for rank, (_, candidate) in enumerate(seed_list.fallback, len(ranks) + 1):
                ranks.setdefault(candidate.song_id, rank)
        fact = SeedFacts(seed_list.seed_id, seed_list.seed_type, seed_list.seed_id, ranks)
        if seed_list.seed_type == "TRACK":
            doc = docs.get(track_key(seed_list.seed_id))
            if isinstance(doc, dict):
                summary = TrackSummary.decode(doc["track"])
                fact.name = summary.name or seed_list.seed_id
                fact.artists, fact.genres = frozenset(summary.artists), frozenset(summary.genres)
            fact.features = _compared(catalogue, seed_list.seed_index)
            if model in EVIDENCE_MODELS:
                evidence = docs.get(neighbours_key(COLISTENING, seed_list.seed_id))
                fact.listened = _evidence_songs(evidence, catalogue, floor)
        elif seed_list.seed_type == "ARTIST":
            doc = docs.get(artist_key(seed_list.seed_id))
            if isinstance(doc, dict):  # A# body: {"artist": [name, popularity, genres, count]}
                name, _, genres, _ = doc["artist"]
                fact.name, fact.artists, fact.genres = name, frozenset([name]), frozenset(genres)
        elif seed_list.seed_type == "SESSION":
            fact.features = _compared(catalogue, catalogue.index_of(seed_list.seed_id))
        fact.source = _source(fact)
        facts.append(fact)
    return facts


def _compared(catalogue: Catalogue, index: int | None) -> tuple[float, float] | None:
    """(tempo, energy) of a track from the cached catalogue columns."""
    if index is None:
        return None
    return catalogue.feature(index, "tempo"), catalogue.feature(index, "energy")


def _source(fact: SeedFacts) -> str:
    if fact.seed_type == "GENRE":
        return f"From genre {fact.name}: "
    return "From your likes: " if fact.seed_type == "SESSION" else f"From “{fact.name}”: "


def _track_reasons(fact: SeedFacts, song: int, pick: TrackSummary, features) -> list:
    said: list[tuple[str, str]] = []
    if fact.seed_type == "SESSION":
        said.append(("liked_in_session", "near a track you liked"))
    if not fact.artists.isdisjoint(pick.artists):  # C-level test first: most picks share none
        artist = next(a for a in pick.artists if a in fact.artists)
        said.append(("same_artist", f"same artist ({artist})"))
    if not fact.genres.isdisjoint(pick.genres):
        genres = [g for g in pick.genres if g in fact.genres]
        said.append(("shared_genre", f"shared genre ({', '.join(genres[:2])})"))
    if fact.features is not None and features is not None:
        (seed_tempo, seed_energy), (tempo, energy) = fact.features, features
        if abs(seed_tempo - tempo) <= CLOSE_TEMPO_BPM:
            said.append(("close_tempo", f"close tempo ({tempo:.0f} BPM)"))
        if abs(seed_energy - energy) <= CLOSE_ENERGY:
            said.append(("close_energy", f"similar energy ({energy:.2f})"))
    if song in fact.listened:
        said.append(("listened_together", "listened to together"))
    return said


def reasons_for(candidate: Candidate, pick: TrackSummary, facts: list[SeedFacts]) -> list[dict]:
    """The reasons of one pick: one entry per seed whose list holds its song, best rank first."""
    found = []
    song, features = candidate.song_id, None
    for fact in facts:
        rank = fact.ranks.get(song)
        if rank is None:
            continue
        if fact.seed_type == "GENRE":
            said = (
                [("shared_genre", f"a {fact.seed_id} track")] if fact.seed_id in pick.genres else []
            )
        else:
            if features is None:
                features = _compared(candidate.catalogue, candidate.index)
            said = _track_reasons(fact, song, pick, features)
        if not said:
            said = [("similar", "similar overall sound")]
        found.append(
            {
                "seed": fact.seed_id,
                "seed_type": fact.seed_type,
                "rank": rank,
                "kinds": [kind for kind, _ in said],
                "text": fact.source + ", ".join(words for _, words in said),
            }
        )
    if len(found) > 1:
        found.sort(key=_RANK)
    return found
