"""Tunable attributes and GET /v1/audio-features?ids= through the handler, over the tiny
hand-made release (lambda_fixtures.py), whose energies are known by construction: the n-th track
of TRACKS has energy 0.1 * n (A 0.0, B 0.2, C 0.3, D 0.4, E 0.5, H 0.8, ...). Seed A's cosine list
is [C, E, B, H, D] (A2 is A's variant)."""

from __future__ import annotations

import pytest
from lambda_fixtures import UNKNOWN, A, B, C, D, E, H, load_event, with_path, with_query

ENERGY = {A: 0.0, B: 0.1 * 2, C: 0.1 * 3, D: 0.1 * 4, E: 0.1 * 5, H: 0.1 * 8}


def recommend(handler, **query):
    return handler(with_query(load_event("recommend"), seed_tracks=A, **query))


def ids(answer: dict) -> list[str]:
    return [t["id"] for t in answer["tracks"]]


def test_min_and_max_filter_the_pool_and_the_seed_reports_it(handler):
    status, answer, _ = recommend(handler, min_energy="0.3", max_energy=str(0.1 * 8))
    assert status == 200
    assert ids(answer) == [C, E, H, D]  # B (0.2) dropped; the bounds themselves are inclusive
    seed = answer["seeds"][0]
    assert seed["initialPoolSize"] == 5 and seed["afterFilteringSize"] == 4


def test_a_filter_edge_inside_the_quantisation_bound_is_decided_on_exact_values(handler):
    """The cached catalogue features are 16-bit codes (about 8e-6 off on this energy range);
    a floor a hair above C's exact energy must still drop C, and one exactly at it keep C."""
    above = recommend(handler, min_energy=repr(ENERGY[C] + 1e-9))
    assert above[0] == 200 and ids(above[1]) == [E, H, D]
    # limit 3: C takes a place in the first read, fails exactly, and D fills it from a next one
    refilled = recommend(handler, limit="3", min_energy=repr(ENERGY[C] + 1e-9))
    assert refilled[0] == 200 and ids(refilled[1]) == [E, H, D]
    at = recommend(handler, min_energy=repr(ENERGY[C]))
    assert at[0] == 200 and ids(at[1]) == [C, E, H, D]
    below_d = recommend(handler, max_energy=repr(ENERGY[D] - 1e-9))
    assert below_d[0] == 200 and ids(below_d[1]) == [C, B]


def test_a_filter_nothing_satisfies_returns_an_empty_list_not_an_error(handler):
    status, answer, _ = recommend(handler, min_popularity="100")
    assert status == 200 and answer["tracks"] == []
    assert answer["seeds"][0]["afterFilteringSize"] == 0


def test_a_target_brings_the_closest_track_first(handler):
    status, answer, _ = recommend(handler, target_energy="0.8")
    assert status == 200
    assert ids(answer)[0] == H  # exactly on target, though 4th in the neighbour list
    assert sorted(ids(answer)) == sorted([C, E, B, H, D])  # targets re-rank, never filter
    plain = recommend(handler)[1]
    assert ids(plain) == [C, E, B, H, D]


def test_targets_re_rank_each_seed_in_per_seed_mode(handler):
    status, answer, _ = recommend(handler, per_seed="2", target_energy="0.8")
    assert status == 200 and ids(answer) == [H, E]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"min_energy": "1.5"}, "min_energy"),
        ({"target_key": "1.5"}, "target_key"),
        ({"max_tempo": "nan"}, "max_tempo"),
        ({"min_danceability": "abc"}, "min_danceability"),
        ({"min_valence": "0.8", "max_valence": "0.2"}, "min_valence"),
    ],
)
def test_a_bad_tunable_value_is_a_400_naming_it(handler, query, named):
    status, answer, _ = recommend(handler, **query)
    assert status == 400 and f"'{named}'" in answer["error"]["message"]


def several_features(handler, ids_text: str | None):
    event = with_path(load_event("audio_features"), "/v1/audio-features")
    event["pathParameters"] = None
    return handler(with_query(event, ids=ids_text))


def test_several_audio_features_in_order_with_null_for_an_unknown_id(handler):
    status, answer, _ = several_features(handler, f"{B},{UNKNOWN},{E}")
    assert status == 200
    features = answer["audio_features"]
    assert [f and f["id"] for f in features] == [B, None, E]
    assert features[0]["energy"] == ENERGY[B] and features[2]["energy"] == ENERGY[E]
    assert features[0]["type"] == "audio_features"


@pytest.mark.parametrize("ids_text", [None, ",".join([A] * 101), "not-an-id"])
def test_several_audio_features_rejects_bad_ids(handler, ids_text):
    status, answer, _ = several_features(handler, ids_text)
    assert status == 400 and answer["error"]["status"] == 400
