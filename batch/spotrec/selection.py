"""Which model the API serves by default: decided by evaluation, never by feel.

With held-out listening (the build has listening data), the LISTENING RULE decides:
1. a model whose lists hold variants (variant_rate > 0) ranks below every model whose lists do
   not: that is a correctness bar, not a taste;
2. the model with the best held-out listening NDCG@100 (LISTENING_METRIC, evaluation/listening.py:
   5 seeds of each held-out session, the API's fusion, the rest of the session as targets),
   compared at RANK_DECIMALS, wins;
3. models within LISTENING_TOLERANCE of the best NDCG@100 are tied (the noise over a few hundred
   held-out sessions): among them the best cold-start NDCG@100 (targets without training
   listening) wins, then the best NDCG@100; the same rule chose the hybrid's shape
   (scripts/tune_blend.py), so a model is not discarded for trading noise for cold start;
4. remaining ties go to the genre rule below.
The genre metrics are circular for models fed genres, so they never outrank listening.
``trending`` is never the default: it is the hybrid re-ordered by rising interactions, a view
asked for by name, and the held-out sessions share its training days (trend_build.py).

Without listening data, the GENRE RULE (documented in the report too):
1. A model that fails any quality bar (BARS) ranks below every model that passes them all.
2. Among equals, the model with the best mean rank over the headline metrics
   (genre precision, MRR, same-artist, coverage, intra-list diversity: higher is better;
   hubness skew: lower is better) wins. Ranking rather than summing keeps one metric's scale
   from drowning out the others.
3. Ties go to the model listed first in schema.ALL_MODELS order.
Metrics are compared at the report's resolution (RANK_DECIMALS): a 0.0001 gap in precision is
noise on 89,741 seeds, and must not outrank a real gap elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from spotrec import schema

# metric -> (comparison, threshold): the bars from issues 2 and 3, at k = 10.
BARS: dict[str, tuple[str, float]] = {
    "genre_precision": (">=", 0.83),
    "mrr": (">=", 0.90),
    "same_artist": (">=", 0.40),
    "coverage": (">=", 0.95),
    "variant_rate": ("==", 0.0),
}
HOLDOUT_BAR = ("genre_precision", 0.34)  # the best learned model, on held-out tracks
RANK_DECIMALS = 3
HIGHER_IS_BETTER = ("genre_precision", "mrr", "same_artist", "coverage", "intra_list_diversity")
LOWER_IS_BETTER = ("hubness_skew",)
LISTENING_METRIC = "ndcg"  # held-out listening NDCG@100
LISTENING_TOLERANCE = 0.01  # NDCG@100 gaps below this are noise over ~500 held-out sessions
COLD_METRIC = "cold_ndcg"  # the same metric on the cold-start slice


def bar_results(metrics: dict[str, float]) -> dict[str, bool]:
    results = {}
    for name, (op, threshold) in BARS.items():
        value = metrics.get(name, float("nan"))
        results[name] = bool(value >= threshold if op == ">=" else value == threshold)
    return results


def mean_ranks(evaluations: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Mean rank per model over the headline metrics (1 = best; ties share the better rank),
    comparing values rounded to RANK_DECIMALS."""
    names = list(evaluations)
    ranks = np.zeros(len(names))
    for metric in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        values = pd.Series([evaluations[n].get(metric, np.nan) for n in names], dtype=float)
        values = values.round(RANK_DECIMALS)
        ascending = metric in LOWER_IS_BETTER
        ranks += values.rank(ascending=ascending, method="min", na_option="bottom").to_numpy()
    count = len(HIGHER_IS_BETTER) + len(LOWER_IS_BETTER)
    return {name: float(rank / count) for name, rank in zip(names, ranks, strict=True)}


def genre_rule_order(evaluations: dict[str, dict[str, Any]]) -> list[str]:
    """Models best first by the genre rule (bars, then mean rank, then canonical order)."""
    ranks = mean_ranks(evaluations)
    order = {m: i for i, m in enumerate(schema.ALL_MODELS)}

    def sort_key(name: str) -> tuple:
        passes = all(bar_results(evaluations[name]).values())
        return (not passes, ranks[name], order.get(name, len(order)))

    return sorted(evaluations, key=sort_key)


def listening_scores(models: dict[str, dict]) -> dict[str, dict]:
    """What the listening rule reads of evaluate_heldout_listening's ``models``: each model's
    all-target metrics plus its cold-start NDCG@100 (COLD_METRIC). Build and report share it."""
    return {
        name: {**result["all"], COLD_METRIC: result["cold"][LISTENING_METRIC]}
        for name, result in models.items()
    }


def choose_default(
    evaluations: dict[str, dict[str, Any]], listening: dict[str, dict] | None = None
) -> str:
    """The best model by the rule in this module's docstring. ``listening`` maps model ->
    held-out listening metrics (evaluation/listening.py); None or empty = the genre rule."""
    # trending is a view of the hybrid by rising interactions, never the default (trend_build.py)
    order = [m for m in genre_rule_order(evaluations) if m != "trending"] or list(evaluations)
    if not listening:
        return order[0]

    def figure(name: str, metric: str) -> float:
        value = (listening.get(name) or {}).get(metric, float("nan"))
        return round(value, RANK_DECIMALS) if np.isfinite(value) else -np.inf

    def has_variants(name: str) -> bool:
        return evaluations[name].get("variant_rate", 0.0) != 0.0

    clean = [name for name in order if not has_variants(name)] or order
    best = max(figure(name, LISTENING_METRIC) for name in clean)

    def sort_key(name: str) -> tuple:
        value = figure(name, LISTENING_METRIC)
        tied = value >= best - LISTENING_TOLERANCE
        cold = figure(name, COLD_METRIC) if tied else -np.inf
        return (has_variants(name), not tied, -cold, -value, order.index(name))

    return min(order, key=sort_key)


def evaluate_models(
    tracks: pd.DataFrame,
    lists: dict[str, np.ndarray],
    k: int = 10,
    *,
    listening: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[dict[str, dict[str, Any]], str]:
    """All metrics per model (plus on held-out tracks when there are any) and the default.

    ``lists`` maps model -> (n, top_n) catalogue-row index matrix (-1 = empty slot), rows in
    tracks order. ``listening`` = (train events, held-out events) of the build's listening data
    (spotrec.data.listening.read_listening): each model then also gets ``listening`` metrics
    (all targets and ``cold``) and the listening rule picks the default.
    """
    from spotrec.evaluation.metrics import Catalogue, NeighbourLists, evaluate

    catalogue = Catalogue.from_tracks(tracks)
    holdout = tracks[schema.HOLDOUT].to_numpy(dtype=bool)
    evaluations: dict[str, dict[str, Any]] = {}
    positions: dict[str, np.ndarray] = {}
    for name, indices in lists.items():
        neighbour_lists = NeighbourLists.from_indices(indices)
        positions[name] = neighbour_lists.positions
        metrics = evaluate(catalogue, neighbour_lists, k=k)
        metrics["bars"] = bar_results(metrics)
        if holdout.any():
            metrics["holdout"] = evaluate(catalogue, neighbour_lists, k=k, seeds_mask=holdout)
        evaluations[name] = metrics
    scores = None
    if listening is not None:
        from spotrec.evaluation.heldout_listening import evaluate_heldout_listening

        held = evaluate_heldout_listening(tracks, positions, *listening, baselines=False)
        for name, result in held["models"].items():
            evaluations[name]["listening"] = {**result["all"], "cold": result["cold"]}
        scores = listening_scores(held["models"])
    return evaluations, choose_default(evaluations, scores)
