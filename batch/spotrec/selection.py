"""Which model the API serves by default: decided by evaluation, never by feel.

Rule (documented in the report too):
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


def choose_default(evaluations: dict[str, dict[str, Any]]) -> str:
    """The best model by the rule in this module's docstring."""
    ranks = mean_ranks(evaluations)
    order = {m: i for i, m in enumerate(schema.ALL_MODELS)}

    def sort_key(name: str) -> tuple:
        passes = all(bar_results(evaluations[name]).values())
        return (not passes, ranks[name], order.get(name, len(order)))

    return min(evaluations, key=sort_key)


def evaluate_models(
    tracks: pd.DataFrame, lists: dict[str, np.ndarray], k: int = 10
) -> tuple[dict[str, dict[str, Any]], str]:
    """All metrics per model (plus on held-out tracks when there are any) and the default.

    ``lists`` maps model -> (n, top_n) catalogue-row index matrix (-1 = empty slot), rows in
    tracks order.
    """
    from spotrec.evaluation.metrics import Catalogue, NeighbourLists, evaluate

    catalogue = Catalogue.from_tracks(tracks)
    holdout = tracks[schema.HOLDOUT].to_numpy(dtype=bool)
    evaluations: dict[str, dict[str, Any]] = {}
    for name, indices in lists.items():
        neighbour_lists = NeighbourLists.from_indices(indices)
        metrics = evaluate(catalogue, neighbour_lists, k=k)
        metrics["bars"] = bar_results(metrics)
        if holdout.any():
            metrics["holdout"] = evaluate(catalogue, neighbour_lists, k=k, seeds_mask=holdout)
        evaluations[name] = metrics
    return evaluations, choose_default(evaluations)
