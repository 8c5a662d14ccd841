"""The two EventStores behave alike: idempotent writes, the session summary, concurrent writers,
one-call reads, and session-aware recommendations over the tiny hand-made release."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from event_store_fixtures import EVENTS_TABLE, ITEMS_TABLE, stores
from lambda_fixtures import H2, HG, A, B, C, D, E, G, H, K

from spotrec_serving.event_ingest import record_events
from spotrec_serving.events import Event, event_key
from spotrec_serving.recommend import RecommendationRequest, recommend

KINDS = ["sqlite", "dynamodb"]
SESSION = "session-0001"
T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)


def ev(track: str, kind: str, n: int, session: str = SESSION, shown=()) -> Event:
    stamp = T0 + n * 1000
    return Event(event_key(session, track, kind, stamp), session, track, kind, stamp, {}, shown)


@pytest.fixture(params=KINDS)
def both(request, store_file, tmp_path, monkeypatch):
    with stores(request.param, store_file, tmp_path, monkeypatch) as found:
        yield found


def ids(answer: dict) -> list[str]:
    return [t["id"] for t in answer["tracks"]]


def ask(item_store, event_store, *seeds: str, limit: int = 10, session=SESSION) -> list[str]:
    request = RecommendationRequest(seed_tracks=seeds, limit=limit, session_id=session)
    return ids(recommend(item_store, "https://x", request, event_store))


def test_events_are_written_once_and_retries_are_duplicates(both):
    item_store, event_store, _ = both
    batch = [ev(A, "like", 1), ev(B, "play", 2)]
    assert record_events(item_store, event_store, SESSION, batch)["accepted"] == 2
    again = record_events(item_store, event_store, SESSION, batch)
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    stored = sorted((e["track_id"], e["event"]) for e in event_store.iter_events())
    assert stored == [(A, "like"), (B, "play")]
    assert len(event_store.get_summary(SESSION)["events"]) == 2


def test_the_summary_keeps_the_last_50_events(both):
    item_store, event_store, _ = both
    for n in range(0, 60, 10):
        record_events(item_store, event_store, SESSION, [ev(B, "play", n + i) for i in range(10)])
    events = event_store.get_summary(SESSION)["events"]
    assert len(events) == 50 and events[-1][4] == T0 + 59_000 and events[0][4] == T0 + 10_000
    assert sum(1 for _ in event_store.iter_events()) == 60


@pytest.mark.parametrize(
    "kind", ["sqlite", pytest.param("dynamodb-http", marks=pytest.mark.integration)]
)
def test_concurrent_writers_lose_no_event_and_count_each_once(
    kind, store_file, tmp_path, monkeypatch
):
    with stores(kind, store_file, tmp_path, monkeypatch) as (item_store, event_store, _):
        check_concurrent_writers(item_store, event_store)


def check_concurrent_writers(item_store, event_store) -> None:
    threads, batches = 6, 5
    errors = []

    def writer(w: int) -> None:
        try:
            for b in range(batches):
                # each batch: 3 new events of a shared session + 1 repeat of the batch before
                batch = [ev(B, "play", w * 1000 + b * 10 + i, "shared-session") for i in range(3)]
                if b:
                    batch.append(ev(B, "play", w * 1000 + (b - 1) * 10, "shared-session"))
                record_events(item_store, event_store, "shared-session", batch)
        except Exception as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    stored = list(event_store.iter_events())
    assert len(stored) == threads * batches * 3
    assert len({e["key"] for e in stored}) == len(stored)
    # No summary update was lost either: the summary holds the newest 50 of the 90 events.
    summary_keys = {e[0] for e in event_store.get_summary("shared-session")["events"]}
    assert len(summary_keys) == 50


def test_skips_remove_the_track_and_its_variants_for_the_session_only(both):
    item_store, event_store, _ = both
    assert ask(item_store, event_store, A) == [C, E, B, H, D]
    record_events(item_store, event_store, SESSION, [ev(H2, "skip", 1)])  # H's variant
    assert H not in ask(item_store, event_store, A)
    assert H in ask(item_store, event_store, A, session="another-session")


def test_skips_push_close_neighbours_down(both):
    item_store, event_store, _ = both
    record_events(item_store, event_store, SESSION, [ev(C, "skip", 1)])  # C's list: A, E, B
    # E and B were 2nd and 3rd; as C's close neighbours they now fall behind H and D.
    assert ask(item_store, event_store, A) == [H, D, E, B]


def test_likes_act_as_extra_seeds(both):
    item_store, event_store, _ = both
    assert HG not in ask(item_store, event_store, A) and K not in ask(item_store, event_store, A)
    record_events(item_store, event_store, SESSION, [ev(G, "like", 1)])  # G's list: H, HG, K
    after = ask(item_store, event_store, A)
    assert HG in after and K in after
    assert after.index(H) < 3  # in both A's and G's lists: it rises


def test_played_and_shown_tracks_are_demoted(both):
    item_store, event_store, _ = both
    record_events(item_store, event_store, SESSION, [ev(E, "play", 1, shown=(C,))])
    assert ask(item_store, event_store, A) == [B, H, D, C, E]


def test_dynamodb_reads_lists_and_summary_in_one_batch_get(store_file, tmp_path, monkeypatch):
    with stores("dynamodb", store_file, tmp_path, monkeypatch) as (items, events, client):
        record_events(items, events, SESSION, [ev(H2, "skip", 1)])
        items.current_run()  # warm the CURRENT cache, as a warm Lambda has it
        calls: list[tuple[str, list[str]]] = []
        client.meta.events.register(
            "before-parameter-build.dynamodb.*",
            lambda model, params, **_: calls.append(
                (model.name, sorted(params.get("RequestItems", {})))
            ),
        )
        answer = ask(items, events, A, B)
        # Two round trips: the lists with the session summary, then the picked tracks' T# items.
        assert H not in answer
        assert calls == [
            ("BatchGetItem", sorted([ITEMS_TABLE, EVENTS_TABLE])),
            ("BatchGetItem", [ITEMS_TABLE]),
        ]
