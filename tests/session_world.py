"""Synthetic listeners with planted tastes, for measuring session reactions (stdlib only).

A catalogue of TASTES x PER_TASTE tracks; a track's genre is its taste. Each track's neighbour
list (top 20) is deliberately MIXED: about 55% tracks of its own taste, the rest from the
others, in random order. So a listener seeding one track of taste X and one of taste Y gets a
mixed top-20, and how much of it belongs to a taste is a number the session can move:

- likes: the listener likes 3 shown tracks of taste X -> X's share of the next top-20;
- skips: the listener skips 3 shown tracks of taste Y -> Y's share of the next top-20.

The answers are known by construction (the taste is the genre), nothing here is learned.
The release is built by the batch writer (writers/items.py), so the world needs spotrec installed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

TASTES = ("taste-a", "taste-b", "taste-c", "taste-d")
PER_TASTE = 60
TOP_N = 20
OWN_SHARE = 0.55
RUN_ID = "20260101T000000Z-session0"


def track_id(taste: int, index: int) -> str:
    return f"t{taste}x{index:03d}".ljust(22, "0")


def taste_of(track: str) -> int:
    return int(track[1])


def summary(track: str) -> list:
    taste = taste_of(track)
    return [
        track,
        f"Song {track[:7]}",
        [f"Artist {track[:5]}"],
        "Album",
        200_000,
        False,
        50,
        [TASTES[taste]],
        f"song-{track}",
    ]


def all_tracks() -> list[str]:
    return [track_id(t, i) for t in range(len(TASTES)) for i in range(PER_TASTE)]


def neighbour_lists(seed: int = 0) -> dict[str, list[str]]:
    rng = random.Random(seed)
    tracks = all_tracks()
    lists = {}
    for track in tracks:
        own = [t for t in tracks if taste_of(t) == taste_of(track) and t != track]
        other = [t for t in tracks if taste_of(t) != taste_of(track)]
        n_own = round(TOP_N * OWN_SHARE)
        picked = rng.sample(own, n_own) + rng.sample(other, TOP_N - n_own)
        rng.shuffle(picked)
        lists[track] = picked
    return lists


def release_items(seed: int = 0) -> Iterator[tuple[str, dict | bytes]]:
    """The compact release the batch writer makes of this world (writers.items.assemble_release),
    META first (it names the run)."""
    from spotrec.schema import AUDIO_FEATURES
    from spotrec.writers.items import ListsByIndex, ReleaseCatalogue, assemble_release

    tracks = all_tracks()
    position = {track: i for i, track in enumerate(tracks)}
    features = dict.fromkeys(AUDIO_FEATURES, 0)  # the world plants tastes, not sounds
    catalogue = ReleaseCatalogue(
        ids=tracks,
        summaries=[summary(t) for t in tracks],
        popularity=[50] * len(tracks),
        genres=[[TASTES[taste_of(t)]] for t in tracks],
        song_ids=[f"song-{t}" for t in tracks],
        features=[features for _ in tracks],
    )
    lists = {
        position[track]: ([position[t] for t in ranked], [0.95 - 0.02 * r for r in range(TOP_N)])
        for track, ranked in neighbour_lists(seed).items()
    }
    meta = {"run_id": RUN_ID, "created": "2026-01-01T00:00:00Z", "top_n": TOP_N}
    items = dict(
        assemble_release(
            catalogue,
            {"cosine": lambda: ListsByIndex(lists, len(tracks))},
            meta,
            search_max_prefix=10,
            search_cap=200,
        )
    )
    yield from sorted(items.items(), key=lambda kv: kv[0] != "META")


def share(track_ids: list[str], taste: int) -> float:
    return sum(taste_of(t) == taste for t in track_ids) / max(1, len(track_ids))


def listeners(n: int, seed: int = 1) -> Iterator[tuple[str, str, int, int]]:
    """(seed track of taste X, seed track of taste Y, X, Y) for n listeners."""
    rng = random.Random(seed)
    for _ in range(n):
        x, y = rng.sample(range(len(TASTES)), 2)
        yield track_id(x, rng.randrange(PER_TASTE)), track_id(y, rng.randrange(PER_TASTE)), x, y


def measure(item_store, event_store, n_listeners: int = 50, seed: int = 1) -> dict:
    """Mean taste shares of the top-20 before/after 3 likes (taste X) and 3 skips (taste Y),
    through the real write path (record_events) and the real read path (recommend)."""
    from spotrec_serving.event_ingest import record_events
    from spotrec_serving.events import Event, event_key
    from spotrec_serving.recommend import RecommendationRequest, recommend

    def top(seeds: tuple[str, str], session: str) -> list[str]:
        request = RecommendationRequest(seed_tracks=seeds, limit=TOP_N, session_id=session)
        answer = recommend(item_store, "https://x", request, event_store)
        return [t["id"] for t in answer["tracks"]]

    def act(session: str, tracks: list[str], kind: str) -> None:
        stamp = 1_767_225_600_000  # 2026-01-01
        events = [
            Event(event_key(session, t, kind, stamp + i), session, t, kind, stamp + i)
            for i, t in enumerate(tracks)
        ]
        record_events(item_store, event_store, session, events)

    totals = {"like_before": 0.0, "like_after": 0.0, "skip_before": 0.0, "skip_after": 0.0}
    moved = {"like_up": 0, "skip_down": 0}
    for i, (seed_x, seed_y, x, y) in enumerate(listeners(n_listeners, seed)):
        seeds = (seed_x, seed_y)
        before = top(seeds, f"like-session-{i:04d}")
        act(f"like-session-{i:04d}", [t for t in before if taste_of(t) == x][:3], "like")
        after = top(seeds, f"like-session-{i:04d}")
        totals["like_before"] += share(before, x)
        totals["like_after"] += share(after, x)
        moved["like_up"] += share(after, x) > share(before, x)
        act(f"skip-session-{i:04d}", [t for t in before if taste_of(t) == y][:3], "skip")
        after = top(seeds, f"skip-session-{i:04d}")
        totals["skip_before"] += share(before, y)
        totals["skip_after"] += share(after, y)
        moved["skip_down"] += share(after, y) < share(before, y)
    result = {name: round(value / n_listeners, 4) for name, value in totals.items()}
    result |= {name: round(count / n_listeners, 4) for name, count in moved.items()}
    return result | {"listeners": n_listeners}
