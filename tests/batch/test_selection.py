"""The default-model rule on hand-made metric tables with a known winner."""

from __future__ import annotations

from spotrec.selection import bar_results, choose_default

GOOD = {
    "genre_precision": 0.90,
    "mrr": 0.95,
    "same_artist": 0.50,
    "coverage": 0.97,
    "intra_list_diversity": 0.40,
    "hubness_skew": 1.5,
    "variant_rate": 0.0,
}


def test_bars_are_checked_one_by_one():
    assert all(bar_results(GOOD).values())
    failing = bar_results({**GOOD, "coverage": 0.94, "variant_rate": 0.001})
    assert failing == {
        "genre_precision": True,
        "mrr": True,
        "same_artist": True,
        "coverage": False,
        "variant_rate": False,
    }


def test_a_model_failing_a_bar_never_wins():
    better_but_failing = {k: v + 0.05 for k, v in GOOD.items()} | {"variant_rate": 0.01}
    assert choose_default({"cosine": GOOD, "transformer": better_but_failing}) == "cosine"


def test_best_mean_rank_wins_among_models_passing_every_bar():
    blend = GOOD | {"same_artist": 0.60, "coverage": 0.98}
    transformer = GOOD | {"intra_list_diversity": 0.45}
    assert choose_default({"transformer": transformer, "blend": blend}) == "blend"


def test_differences_below_the_reported_precision_are_ties():
    # 0.0001 more precision and MRR must not outrank a real gain in coverage and same-artist.
    transformer = GOOD | {"genre_precision": 0.9971, "mrr": 0.9993}
    blend = GOOD | {"genre_precision": 0.9970, "mrr": 0.9991, "coverage": 0.98, "same_artist": 0.6}
    assert choose_default({"transformer": transformer, "blend": blend}) == "blend"


def test_full_ties_go_to_the_first_model_in_the_canonical_order():
    assert choose_default({"blend": GOOD, "cosine": GOOD}) == "cosine"
