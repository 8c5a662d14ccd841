"""POST /v1/events through the events Lambda, driven by a real API Gateway event
(tests/events/post_events.json), over the tiny hand-made release and a real SQLite event file."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from lambda_fixtures import (
    A2,
    EVENTS_DIR,
    LAMBDA_CONTEXT,
    UNKNOWN,
    A,
    B,
    C,
    D,
    E,
    H,
    response_headers,
)

from spotrec_serving.sqlite_event_store import SqliteEventStore

SESSION = "sess-test-0001"


@pytest.fixture
def events_db(tmp_path, monkeypatch):
    path = tmp_path / "events.sqlite"
    monkeypatch.setenv("SPOTREC_EVENTS_DB", str(path))
    monkeypatch.delenv("SPOTREC_EVENTS_TABLE", raising=False)
    return path


@pytest.fixture
def post(store_file, events_db, monkeypatch):
    monkeypatch.setenv("SPOTREC_STORE", str(store_file))
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    import events_app

    template = json.loads((EVENTS_DIR / "post_events.json").read_text())

    def invoke(body, content_type: str = "application/json", raw: bool = False):
        event = copy.deepcopy(template)
        event["body"] = body if raw else json.dumps(body)
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]
        event["headers"]["Origin"] = "https://page.example"
        event["multiValueHeaders"]["Origin"] = ["https://page.example"]
        response = events_app.lambda_handler(event, LAMBDA_CONTEXT)
        return response["statusCode"], json.loads(response["body"]), response_headers(response)

    return invoke


def body(*events: dict, session_id: str = SESSION) -> dict:
    return {"session_id": session_id, "events": list(events)}


def test_the_recorded_event_lands_in_the_store_and_the_session_summary(post, events_db):
    status, answer, headers = post(body({"track_id": A, "event": "like", "event_id": "e1"}))
    assert status == 200, answer
    assert answer["accepted"] == 1 and answer["duplicates"] == 0
    assert headers["Access-Control-Allow-Origin"] == "*"
    store = SqliteEventStore(events_db)
    assert [(e["session_id"], e["track_id"], e["event"]) for e in store.iter_events()] == [
        (SESSION, A, "like")
    ]
    summary = store.get_summary(SESSION)
    liked_track, weight, neighbours = summary["liked"][0]
    # The write path copied A's cosine neighbours (C, E, B, H, D) into the summary, as track ids
    # (read from the packed list through the catalogue) with their scores.
    assert liked_track == A and weight == 1.0
    assert [n[1] for n in neighbours] == [C, E, B, H, D]
    # scores: packed as u8 codes, at most (0.9 - 0.5) / 510 off (items.py)
    assert [n[0] for n in neighbours] == pytest.approx([0.9, 0.8, 0.7, 0.6, 0.5], abs=0.4 / 510)


def test_a_retried_like_counts_once_with_or_without_a_client_id(post, events_db):
    stamp = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    with_id = {"track_id": A, "event": "like", "event_id": "retry-me"}
    without_id = {"track_id": B, "event": "save", "timestamp": stamp}
    first = post(body(with_id, without_id))
    second = post(body(with_id, without_id))
    assert first[1]["accepted"] == 2 and second[1]["accepted"] == 0
    assert second[1]["duplicates"] == 2
    assert SqliteEventStore(events_db).count_events() == 2
    assert len(SqliteEventStore(events_db).get_summary(SESSION)["events"]) == 2


def test_a_skip_records_the_song_so_its_variants_can_be_excluded(post, events_db):
    assert post(body({"track_id": A2, "event": "skip"}))[0] == 200
    (skipped,) = SqliteEventStore(events_db).get_summary(SESSION)["skipped"]
    assert skipped[:2] == [A2, "song-a"]


GOOD = {"track_id": A, "event": "play"}
BAD_INPUTS = {
    "bad JSON": ("{not json", "application/json", True, 400),
    "not an object": ("[1, 2]", "application/json", True, 400),
    "empty body": ("", "application/json", True, 400),
    "unknown event": (body({"track_id": A, "event": "dance"}), "application/json", False, 400),
    "11 events": (body(*[GOOD] * 11), "application/json", False, 400),
    "no events": (body(), "application/json", False, 400),
    "unknown track": (body({"track_id": UNKNOWN, "event": "like"}), "application/json", False, 400),
    "malformed track": (body({"track_id": "x", "event": "like"}), "application/json", False, 400),
    "missing session": ({"events": [GOOD]}, "application/json", False, 400),
    "short session": (body(GOOD, session_id="abc"), "application/json", False, 400),
    "session with slash": (body(GOOD, session_id="abcdefgh/ij"), "application/json", False, 400),
    "long session": (body(GOOD, session_id="a" * 129), "application/json", False, 400),
    "over 16 KB": (
        body({**GOOD, "event_id": "x"}) | {"pad": "x" * 17000},
        "application/json",
        False,
        413,
    ),
    "wrong content type": (body(GOOD), "text/plain", False, 415),
    "timestamp not ISO": (body({**GOOD, "timestamp": "yesterday"}), "application/json", False, 400),
    "timestamp without zone": (
        body({**GOOD, "timestamp": "2026-01-01T00:00:00"}),
        "application/json",
        False,
        400,
    ),
    "unknown field": (body({**GOOD, "rating": 5}), "application/json", False, 400),
    "bad context": (body({**GOOD, "context": {"position": -1}}), "application/json", False, 400),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gets_a_4xx_in_spotifys_shape_and_writes_nothing(case, post, events_db):
    payload, content_type, raw, expected = BAD_INPUTS[case]
    status, answer, _ = post(payload, content_type, raw)
    assert status == expected, answer
    assert answer == {"error": {"status": expected, "message": answer["error"]["message"]}}
    assert answer["error"]["message"]
    assert SqliteEventStore(events_db).count_events() == 0


def test_a_batch_with_one_unknown_track_is_refused_whole(post, events_db):
    status, answer, _ = post(body(GOOD, {"track_id": UNKNOWN, "event": "like"}))
    assert status == 400 and UNKNOWN in answer["error"]["message"]
    assert SqliteEventStore(events_db).count_events() == 0


def test_a_base64_body_is_decoded_and_other_methods_are_405(post, events_db):
    encoded = base64.b64encode(json.dumps(body(GOOD)).encode()).decode()
    import events_app

    event = json.loads((EVENTS_DIR / "post_events.json").read_text())
    event["body"], event["isBase64Encoded"] = encoded, True
    assert events_app.lambda_handler(event, LAMBDA_CONTEXT)["statusCode"] == 200
    event["httpMethod"] = "GET"
    response = events_app.lambda_handler(event, LAMBDA_CONTEXT)
    assert response["statusCode"] == 405


def recommend_event(session_id: str) -> dict:
    event = json.loads((EVENTS_DIR / "recommend.json").read_text())
    event["queryStringParameters"] = {"seed_tracks": A, "session_id": session_id}
    event["multiValueQueryStringParameters"] = {"seed_tracks": [A], "session_id": [session_id]}
    return event


def test_recommendations_react_to_events_posted_to_the_session(post, handler):
    plain = [t["id"] for t in handler(recommend_event(SESSION))[1]["tracks"]]
    assert plain == [C, E, B, H, D]  # a session without events: the plain answer
    assert post(body({"track_id": C, "event": "skip"}))[0] == 200
    status, answer, _ = handler(recommend_event(SESSION))
    assert status == 200 and C not in [t["id"] for t in answer["tracks"]]


def test_tunable_filters_hold_on_the_session_path(post, handler):
    """Energies by construction (lambda_fixtures): B 0.2, C 0.3, D 0.4, E 0.5, H 0.8."""
    event = recommend_event(SESSION)
    event["queryStringParameters"]["min_energy"] = "0.25"
    event["multiValueQueryStringParameters"]["min_energy"] = ["0.25"]
    assert [t["id"] for t in handler(event)[1]["tracks"]] == [C, E, H, D]  # B filtered
    assert post(body({"track_id": C, "event": "skip"}))[0] == 200
    status, answer, _ = handler(event)
    # C never again (skipped); E, C's neighbour, pushed down; B still filtered out
    assert status == 200 and answer["tracks"][0]["id"] == H
    assert sorted(t["id"] for t in answer["tracks"]) == sorted([E, H, D])


def test_a_malformed_session_id_on_recommendations_is_a_400(handler, events_db):
    status, answer, _ = handler(recommend_event("bad id!"))
    assert status == 400 and "session_id" in answer["error"]["message"]


def test_without_an_event_store_sessions_are_ignored_not_an_error():
    from spotrec_serving.event_store import optional_event_store

    assert optional_event_store({"SPOTREC_TABLE": "items-only"}) is None
    assert optional_event_store({"SPOTREC_EVENTS_TABLE": "events"}) is not None


def mutations(seed: int, count: int):
    """Seeded junk around a valid body: wrong types, missing and extra keys, odd values."""
    import random

    rng = random.Random(seed)
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    junk = [None, True, -1, 10**30, 1.5, "", "x" * 300, [], {}, [None], {"a": 1}, "\u0000", "é"]
    for _ in range(count):
        event = {"track_id": A, "event": "like", "timestamp": recent}
        event |= {"event_id": "e1", "context": {"seed_tracks": [B], "model": "m", "position": 1}}
        payload = {"session_id": SESSION, "events": [event]}
        for _ in range(rng.randint(1, 3)):
            targets = [payload, event, event.get("context")]
            target = rng.choice([t for t in targets if isinstance(t, dict)])
            key = rng.choice([*target, "extra"])
            if rng.random() < 0.2:
                target.pop(key, None)
            else:
                target[key] = copy.deepcopy(rng.choice(junk))
        yield payload


def test_no_junk_body_gets_a_500(post, events_db):
    for payload in mutations(seed=8, count=300):
        status, answer, _ = post(payload)
        assert status in (200, 400), (payload, answer)
        if status == 400:
            assert answer["error"]["status"] == 400 and answer["error"]["message"]


def test_the_events_handler_starts_its_own_request_budget(post):
    """A thread that ran an earlier request (spotrec serve, benchmarks) must not carry its spent
    DynamoDB deadline into POST /v1/events: the handler starts a fresh one."""

    from spotrec_serving import config

    config.start_request(budget=-1.0)  # a spent deadline, as an earlier request leaves it
    assert post(body({"track_id": A, "event": "play"}))[0] == 200
    assert config._request.deadline is None  # cleared when the request ended


def test_a_finished_request_leaves_no_spent_deadline_behind():
    """The publish's checks, tests and benchmarks read the table from threads that ran requests
    earlier: only a request in progress may refuse a call for its spent budget."""
    import pytest

    from spotrec_serving import config
    from spotrec_serving.store import StoreError

    with config.request_clock(budget=-1.0), pytest.raises(StoreError):
        config.check_deadline()
    config.check_deadline()  # after the request: no deadline, no error
