"""Tunable attributes (spotrec_serving.tuning): parsing, filters and target re-ranking, on
candidates whose features are known by construction."""

from __future__ import annotations

import itertools
import random

import pytest

from spotrec_serving.errors import BadRequest
from spotrec_serving.tuning import (
    DEFAULT_SPREADS,
    PARAMETER_NAMES,
    TUNABLE_ATTRIBUTES,
    Tuning,
    closeness,
    filter_candidates,
    pack_features,
    parse_tuning,
    rerank,
    unpack_features,
)

UNIT = ["acousticness", "danceability", "energy", "instrumentalness", "liveness"]
UNIT += ["speechiness", "valence"]
INTEGER = {"key": (0, 11), "mode": (0, 1), "popularity": (0, 100)}
UNBOUNDED_INT = ["duration_ms", "time_signature"]
UNBOUNDED_FLOAT = ["loudness", "tempo"]


def parse(**params: str) -> Tuning:
    return parse_tuning(params.get)


def test_the_42_parameters_spotipy_forwards():
    assert len(TUNABLE_ATTRIBUTES) == 14 and len(PARAMETER_NAMES) == 42
    assert sorted(TUNABLE_ATTRIBUTES) == sorted([*UNIT, *INTEGER, *UNBOUNDED_INT, *UNBOUNDED_FLOAT])


def test_valid_values_of_every_parameter_parse():
    params = {}
    for attribute in TUNABLE_ATTRIBUTES:
        value = {"key": "3", "mode": "1", "popularity": "50", "duration_ms": "200000"}.get(
            attribute, "-7.5" if attribute in UNBOUNDED_FLOAT else "0.5"
        )
        if attribute == "time_signature":
            value = "4"
        for prefix in ("min_", "max_", "target_"):
            params[prefix + attribute] = value
    tuning = parse(**params)
    assert tuning.minimums == tuning.maximums == tuning.targets
    assert tuning.minimums["key"] == 3 and isinstance(tuning.minimums["key"], int)
    assert tuning.minimums["loudness"] == -7.5 and tuning.minimums["energy"] == 0.5
    assert tuning.filters and tuning.active


def test_no_parameters_is_inactive():
    tuning = parse()
    assert not tuning.active and not tuning.filters


INVALID = (
    [(p + a, v) for a in UNIT for p in ("min_", "max_", "target_") for v in ("1.01", "-0.1")]
    + [
        (p + a, v)
        for a, (lo, hi) in INTEGER.items()
        for p in ("min_", "max_", "target_")
        for v in (str(lo - 1), str(hi + 1), "1.5")
    ]
    + [(p + a, "2.5") for a in UNBOUNDED_INT for p in ("min_", "max_", "target_")]
    + [
        (name, value)
        for name in PARAMETER_NAMES
        for value in ("abc", "nan", "inf", "-Infinity", "1e999", "", "0x10", "1_0", "٣")
    ]
)


@pytest.mark.parametrize(("name", "value"), INVALID)
def test_every_invalid_value_is_a_bad_request_naming_the_parameter(name, value):
    with pytest.raises(BadRequest) as caught:
        parse(**{name: value})
    assert caught.value.status == 400
    assert f"'{name}'" in caught.value.message


@pytest.mark.parametrize("attribute", TUNABLE_ATTRIBUTES)
def test_min_above_max_is_a_bad_request(attribute):
    low, high = ("1", "0") if attribute in INTEGER or attribute in UNBOUNDED_INT else ("0.6", "0.4")
    with pytest.raises(BadRequest) as caught:
        parse(**{f"min_{attribute}": low, f"max_{attribute}": high})
    assert f"'min_{attribute}'" in caught.value.message
    assert f"'max_{attribute}'" in caught.value.message
    parse(**{f"min_{attribute}": high, f"max_{attribute}": high})  # equal is fine


def test_unbounded_attributes_take_any_finite_value():
    tuning = parse(
        min_loudness="-100", max_tempo="1000.5", min_duration_ms="0", max_time_signature="9"
    )
    assert tuning.minimums == {"loudness": -100.0, "duration_ms": 0}
    assert tuning.maximums == {"tempo": 1000.5, "time_signature": 9}


def random_features(rng: random.Random) -> dict[str, float]:
    features = {a: round(rng.random(), 3) for a in UNIT}
    features.update(key=rng.randint(0, 11), mode=rng.randint(0, 1), popularity=rng.randint(0, 100))
    features.update(duration_ms=rng.randint(60_000, 400_000), time_signature=rng.randint(3, 5))
    features.update(loudness=round(rng.uniform(-30, 0), 2), tempo=round(rng.uniform(60, 200), 1))
    return features


def test_every_kept_candidate_satisfies_every_filter_and_none_is_lost():
    rng = random.Random(7)
    candidates = [(f"t{i}", random_features(rng)) for i in range(500)]
    tuning = parse(min_energy="0.3", max_energy="0.8", min_key="2", max_tempo="150")
    kept = filter_candidates(candidates, lambda c: c[1], tuning)
    expected = [
        c
        for c in candidates
        if 0.3 <= c[1]["energy"] <= 0.8 and c[1]["key"] >= 2 and c[1]["tempo"] <= 150
    ]
    assert kept == expected and 0 < len(kept) < len(candidates)


def test_a_candidate_missing_a_filtered_attribute_is_dropped():
    candidates = [("known", {"energy": 0.9}), ("unknown", {})]
    assert filter_candidates(candidates, lambda c: c[1], parse(min_energy="0.5")) == [candidates[0]]


def test_targets_reorder_by_spread_scaled_closeness():
    # Fused scores 1/61, 1/62, 1/63 (RRF ranks 1..3); one target, energy 0.8, spread 0.2.
    features = {"x": {"energy": 0.2}, "y": {"energy": 0.7}, "z": {"energy": 0.8}}
    scored = [(1 / 61, "x"), (1 / 62, "y"), (1 / 63, "z")]
    result = rerank(scored, features.get, parse(target_energy="0.8"), {"energy": 0.2})
    # x: 0.5*1 + 0.5/(1+3) = 0.625; y: 0.5*61/62 + 0.5/(1+0.5) = 0.825269; z: 0.5*61/63 + 0.5
    assert [c for _, c in result] == ["z", "y", "x"]
    assert [round(s, 6) for s, _ in result] == [0.984127, 0.825269, 0.625]


def test_targets_weigh_equally_on_the_spread_scale():
    # Two targets; a is 1 spread off on energy, b is 1 spread off on tempo: equal closeness.
    spreads = {"energy": 0.25, "tempo": 30.0}
    targets = {"energy": 0.5, "tempo": 120.0}
    a = {"energy": 0.75, "tempo": 120.0}
    b = {"energy": 0.5, "tempo": 150.0}
    assert closeness(a, targets, spreads) == closeness(b, targets, spreads) == 1 / 1.5


def test_without_targets_the_fused_order_is_kept():
    scored = [(0.3, "a"), (0.2, "b")]
    assert rerank(scored, lambda _: {}, parse(min_energy="0.1")) == scored


def test_default_spreads_cover_every_attribute_and_packing_round_trips():
    assert set(DEFAULT_SPREADS) == set(TUNABLE_ATTRIBUTES)
    features = random_features(random.Random(1))
    assert unpack_features(pack_features(features)) == features
    assert len(pack_features({})) == 14


def test_every_prefix_attribute_pair_is_a_parameter():
    expected = {
        p + a for p, a in itertools.product(("min_", "max_", "target_"), TUNABLE_ATTRIBUTES)
    }
    assert set(PARAMETER_NAMES) == expected
