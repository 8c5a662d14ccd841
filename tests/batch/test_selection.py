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


def test_with_listening_the_best_heldout_ndcg_wins_over_the_genre_rule():
    genre_winner = GOOD | {"same_artist": 0.60, "coverage": 0.98}
    listening = {"blend": {"ndcg": 0.10}, "cosine": {"ndcg": 0.25}}
    evaluations = {"blend": genre_winner, "cosine": GOOD}
    assert choose_default(evaluations) == "blend"
    assert choose_default(evaluations, listening) == "cosine"
    # a failing genre bar does not matter, a variant in a list does
    failing = GOOD | {"genre_precision": 0.2, "mrr": 0.3}
    assert choose_default({"blend": genre_winner, "cosine": failing}, listening) == "cosine"
    broken = failing | {"variant_rate": 0.01}
    assert choose_default({"blend": genre_winner, "cosine": broken}, listening) == "blend"


def test_listening_ties_at_the_reported_precision_fall_back_to_the_genre_rule():
    genre_winner = GOOD | {"same_artist": 0.60, "coverage": 0.98}
    listening = {"blend": {"ndcg": 0.2501}, "cosine": {"ndcg": 0.2503}}
    assert choose_default({"cosine": GOOD, "blend": genre_winner}, listening) == "blend"
    # a model without a listening figure ranks last
    assert choose_default({"cosine": GOOD, "blend": genre_winner}, {"cosine": {"ndcg": 0.01}}) == (
        "cosine"
    )
    assert choose_default({"cosine": GOOD, "blend": genre_winner}, {}) == "blend"


def test_within_the_listening_noise_the_better_cold_start_wins():
    evaluations = {"colistening": GOOD, "hybrid": GOOD}
    # 0.005 apart: noise over a few hundred sessions; the hybrid serves cold targets 8x better
    tied = {
        "colistening": {"ndcg": 0.617, "cold_ndcg": 0.001},
        "hybrid": {"ndcg": 0.612, "cold_ndcg": 0.008},
    }
    assert choose_default(evaluations, tied) == "hybrid"
    # 0.05 apart is a real loss: no cold-start gain buys it back
    apart = tied | {"hybrid": {"ndcg": 0.567, "cold_ndcg": 0.036}}
    assert choose_default(evaluations, apart) == "colistening"
    # equal cold figures (or none): the better NDCG@100 still wins inside the tolerance
    same_cold = {"colistening": {"ndcg": 0.617}, "hybrid": {"ndcg": 0.612}}
    assert choose_default(evaluations, same_cold) == "colistening"
