"""The session summary (session_summary.py): applied once per event, capped in size, and the
pure reordering (session.adjust) on hand-made pools."""

from __future__ import annotations

import json

from lambda_fixtures import A2, A, B, C, release_items, summary

from spotrec_serving.catalogue import Candidate, Catalogue
from spotrec_serving.events import Event
from spotrec_serving.session import SEEN_FACTOR, adjust
from spotrec_serving.session_summary import (
    MAX_EVENTS,
    MAX_SUMMARY_BYTES,
    Enrichment,
    apply_events,
    encode_summary,
)


def ev(n: int, track: str = A, kind: str = "like", shown=()) -> Event:
    return Event(f"k{n}", "session-1", track, kind, 1_000 + n, {}, tuple(shown))


def test_a_batch_applied_twice_changes_nothing_the_second_time():
    once, applied = apply_events(None, [ev(1), ev(2, B, "skip")], {})
    twice, again = apply_events(once, [ev(1), ev(2, B, "skip")], {})
    assert (applied, again) == (2, 0) and twice == once


def test_a_like_replaces_an_earlier_like_of_the_same_track_and_keeps_its_neighbours():
    neighbours = [[0.9, summary(C)]]
    state, _ = apply_events(None, [ev(1), ev(2)], {A: Enrichment("song-a", neighbours)})
    assert state["liked"] == [[A, 1.0, neighbours]]
    assert [e[0] for e in state["events"]] == ["k1", "k2"]


def test_the_summary_stays_under_its_byte_cap_and_keeps_the_newest_events():
    big = [[0.5, [*summary(C)[:1], "x" * 900, *summary(C)[2:]]] for _ in range(10)]
    enrichment = {f"{i:022d}": Enrichment(f"song-{i}", big) for i in range(60)}
    events = [ev(i, f"{i:022d}", "like" if i % 2 else "skip", shown=[B] * 50) for i in range(60)]
    state, _ = apply_events(None, events, enrichment)
    text = encode_summary(state)
    assert len(text.encode()) <= MAX_SUMMARY_BYTES
    kept = json.loads(text)
    assert len(kept["events"]) == MAX_EVENTS and kept["events"][-1][0] == "k59"


def fixture_catalogue() -> Catalogue:
    """The hand-made release's catalogue columns, as the reader caches them."""
    items = dict(release_items())
    return Catalogue.from_blocks([items["C#0"]], items["META"]["feature_ranges"])


def pool(catalogue: Catalogue, *tracks: str) -> list[tuple[float, Candidate]]:
    return [
        (1.0 - 0.1 * i, catalogue.candidate(catalogue.index_of(t))) for i, t in enumerate(tracks)
    ]


def test_adjust_drops_skipped_songs_and_demotes_what_was_played_or_shown():
    enrichment = {A2: Enrichment("song-a"), B: Enrichment("song-b")}  # as the write path reads
    state, _ = apply_events(None, [ev(1, A2, "skip"), ev(2, B, "play", shown=[C])], enrichment)
    catalogue = fixture_catalogue()
    ranked = adjust(pool(catalogue, A, B, C), state, catalogue)
    # A is a variant of the skipped A2: gone. B (played) and C (shown) keep their order, demoted.
    assert [t.id for _, t in ranked] == [B, C]
    assert ranked[0][0] == 0.9 * SEEN_FACTOR
