"""Reasons per pick (spotrec_serving/reasons.py) on the hand-made release of lambda_fixtures:
artists, genres, list ranks and features (tempo 120 everywhere, energy 0.1 x catalogue
position) are set there, so every reason is known by construction."""

from __future__ import annotations

import json

import pytest
from lambda_fixtures import (
    LAMBDA_CONTEXT,
    TRACKS,
    A,
    B,
    C,
    D,
    E,
    G,
    K,
    load_event,
    release_items,
    with_query,
)

from spotrec.writers.sqlite import write_store
from spotrec_serving.items import META_KEY, neighbours_key, pack_list


def tracks_by_id(handler, **query) -> dict[str, dict]:
    status, body, _ = handler(with_query(load_event("recommend"), **query))
    assert status == 200, body
    return {t["id"]: t for t in body["tracks"]}


def test_each_pick_names_the_seeds_whose_lists_hold_it_best_rank_first(handler):
    tracks = tracks_by_id(handler, seed_tracks=f"{A},{B}")
    # C is 1st in A's list and 3rd in B's; D 2nd... : A: C E H D, B: D H2 C F (seeds removed)
    assert [(r["seed"], r["rank"]) for r in tracks[C]["reasons"]] == [(A, 1), (B, 3)]
    assert [(r["seed"], r["rank"]) for r in tracks[D]["reasons"]] == [(B, 1), (A, 4)]


def test_kinds_say_what_the_pick_shares_with_each_seed(handler):
    tracks = tracks_by_id(handler, seed_tracks=f"{A},{B}")
    by_seed = {r["seed"]: r for r in tracks[C]["reasons"]}
    # C (Beyoncé & JAY-Z; pop, r-n-b; energy 0.3) vs A (Beyoncé; pop; energy 0.0)
    assert by_seed[A]["kinds"] == ["same_artist", "shared_genre", "close_tempo"]
    assert by_seed[A]["text"] == (
        "From “Halo”: same artist (Beyoncé), shared genre (pop), close tempo (120 BPM)"
    )
    # vs B (Adele; pop, soul; energy 0.2): energy 0.1 apart is not close (CLOSE_ENERGY 0.08)
    assert by_seed[B]["kinds"] == ["shared_genre", "close_tempo"]
    # D (Adele; soul) vs B: same artist, shared genre
    assert {r["seed"]: r["kinds"] for r in tracks[D]["reasons"]}[B][:2] == [
        "same_artist",
        "shared_genre",
    ]


def test_a_genre_seed_gives_shared_genre(handler):
    tracks = tracks_by_id(handler, seed_tracks=E, seed_genres="rock")
    assert tracks[G]["reasons"] == [
        {
            "seed": "rock",
            "seed_type": "GENRE",
            "rank": 1,
            "kinds": ["shared_genre"],
            "text": "From genre rock: a rock track",
        }
    ]
    # A (Beyoncé, pop, energy 0.0) from E (Beyoncé, pop, energy 0.5)
    assert tracks[A]["reasons"][0]["kinds"] == ["same_artist", "shared_genre", "close_tempo"]
    assert "listened_together" not in json.dumps(tracks)  # a content model never claims it


@pytest.mark.parametrize(
    ("tempo", "energy", "kinds"),
    [
        (124.9, 0.57, ["close_tempo", "close_energy"]),
        (125.2, 0.59, ["similar"]),  # just past CLOSE_TEMPO_BPM 5 and CLOSE_ENERGY 0.08
        (80.0, 0.45, ["close_energy"]),
    ],
)
def test_close_tempo_and_energy_thresholds(tempo, energy, kinds):
    from spotrec_serving.catalogue import Catalogue, feature_codes, pack_block
    from spotrec_serving.items import FEATURES, TrackSummary
    from spotrec_serving.reasons import SeedFacts, reasons_for

    ranges = {name: [0.0, 1.0, False] for name in FEATURES} | {"tempo": [0.0, 250.0, False]}
    rows = [dict.fromkeys(FEATURES, 0.5) | {"tempo": 120.0}, dict.fromkeys(FEATURES, 0.5)]
    rows[1] |= {"tempo": tempo, "energy": energy}
    ids = ["s" * 22, "p" * 22]
    block = pack_block(ids, [0, 1], [feature_codes(row, ranges) for row in rows])
    catalogue = Catalogue.from_blocks([block], ranges)
    seed = SeedFacts(ids[0], "TRACK", "Seed", {1: 1}, features=(120.0, 0.5))
    pick = TrackSummary(ids[1], "Pick", ("Other",), "", 1, False, 1, ("jazz",), "p")
    (reason,) = reasons_for(catalogue.candidate(1), pick, [seed])
    assert reason["kinds"] == kinds


def test_a_pick_sharing_nothing_named_still_says_which_seed(handler):
    tracks = tracks_by_id(handler, seed_tracks=E)
    # K: The Cranberries, genres hidden (holdout), energy far: only the tempo is close
    assert tracks[K]["reasons"][0]["kinds"] == ["close_tempo"]


LISTENED = {"colistening": [C, E], "hybrid": [E, C]}  # A's lists; E is the listened one


@pytest.fixture
def listening_handler(tmp_path, monkeypatch):
    """The fixture release plus colistening and hybrid lists for seed A: in colistening, E is
    listening evidence (RRF score 1/61) and C the content fill (1e-4/62, as the build does)."""
    items = dict(release_items())
    position = {track_id: i for i, track_id in enumerate(TRACKS)}
    evidence = pack_list(position[A], [position[E], position[C]], [1 / 61, 1e-4 / 62])
    items[neighbours_key("colistening", A)] = evidence
    # hybrid's own scores mean nothing about evidence: C first, E second
    items[neighbours_key("hybrid", A)] = pack_list(
        position[A], [position[C], position[E]], [0.02, 0.01]
    )
    items[META_KEY] = {**items[META_KEY], "models": ["cosine", "blend", "colistening", "hybrid"]}
    monkeypatch.setenv("SPOTREC_STORE", str(write_store(tmp_path, list(items.items()))))
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    import app

    def invoke(**query):
        event = with_query(load_event("recommend"), **query)
        response = app.lambda_handler(event, LAMBDA_CONTEXT)
        body = json.loads(response["body"])
        assert response["statusCode"] == 200, body
        return {t["id"]: t["reasons"][0]["kinds"] for t in body["tracks"]}

    return invoke


@pytest.mark.parametrize("model", ["colistening", "hybrid"])
def test_listened_together_only_where_the_listening_evidence_says_so(listening_handler, model):
    kinds = listening_handler(seed_tracks=A, model=model)
    assert "listened_together" in kinds[E]
    assert "listened_together" not in kinds[C]


def test_reasons_are_in_the_openapi_track_schema():
    from spotrec_serving.openapi import openapi_document
    from spotrec_serving.reasons import KINDS

    track = openapi_document()["components"]["schemas"]["Track"]["properties"]
    reason = track["reasons"]["items"]
    assert reason["properties"]["kinds"]["items"]["enum"] == list(KINDS)
    assert set(reason["required"]) == {"seed", "seed_type", "rank", "kinds", "text"}


def test_a_liked_track_in_the_session_is_a_named_reason(store_file, tmp_path, monkeypatch):
    from event_store_fixtures import stores
    from lambda_fixtures import HG, H

    from spotrec_serving.event_ingest import record_events
    from spotrec_serving.events import Event, event_key
    from spotrec_serving.recommend import RecommendationRequest, recommend

    session, stamp = "session-reasons", 1_767_225_600_000
    like = Event(event_key(session, G, "like", stamp), session, G, "like", stamp, {}, ())
    with stores("sqlite", store_file, tmp_path, monkeypatch) as (items, events, _):
        record_events(items, events, session, [like])  # G's list: H, HG, K
        request = RecommendationRequest(seed_tracks=(A,), limit=10, session_id=session)
        answer = recommend(items, "https://x", request, events)
    tracks = {t["id"]: t["reasons"] for t in answer["tracks"]}
    # HG only from the liked G (2nd in its list); a liked track's T# item is not read (the
    # session summary names it by id only), so its reasons are the like and the features:
    # tempo 120 both, energy 0.7 (G) vs 1.0 (HG)
    assert [(r["seed"], r["seed_type"], r["rank"]) for r in tracks[HG]] == [(G, "SESSION", 2)]
    assert tracks[HG][0]["kinds"] == ["liked_in_session", "close_tempo"]
    assert tracks[HG][0]["text"] == (
        "From your likes: near a track you liked, close tempo (120 BPM)"
    )
    # H: first in G's list, fourth in A's (C E B H D)
    assert [(r["seed"], r["rank"]) for r in tracks[H]] == [(G, 1), (A, 4)]
