"""Weighted reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): the ONE definition,
used by the API (merging the seeds' lists, recommend.py) and by the batch blend (merging the
models' lists, spotrec.models.blend, whose vectorised build path is tested against
``fuse_ranked_lists``).

An item's fused score is ``sum over lists l of weight_l / (k + rank_l)``, over the lists that
hold it (rank 1 = best). Items are fused per *group* (a song: its variants count as one), and
the group is represented by its item with the largest single contribution (then the earlier
list, then the better rank). Order: fused score, then the best single rank, then ``tie_break``
of the representative (default: the order in which representatives were first met).

Why RRF: it uses ranks only, so lists whose scores are not comparable (cosines of different
models, a genre list ordered by representativeness) fuse fairly, and an item close to several
lists rises above one very close to a single list. ``k = 60`` is the paper's value: it damps the
gap between ranks 1 and 2, so agreement between lists counts more than one list's first place.
Stdlib only (this runs in the Lambda); ``rrf_score`` is plain arithmetic, so it works on numpy
arrays too.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

RRF_K = 60

T = TypeVar("T")


def rrf_score(rank: Any, weight: Any = 1.0, k: int = RRF_K) -> Any:
    """One list's contribution for an item at ``rank`` (1-based)."""
    return weight / (k + rank)


def fuse_ranked_lists(
    lists: Iterable[tuple[float, Sequence[T]]],
    group: Callable[[T], Hashable],
    limit: int,
    *,
    k: int = RRF_K,
    tie_break: Callable[[T], Any] | None = None,
) -> list[tuple[float, T]]:
    """``[(fused score, representative item)]``, best first, at most ``limit`` long.

    ``lists`` = ``(weight, items best first)`` per list; a list with weight 0 has no say.
    """
    fused: dict[Hashable, float] = {}
    best_rank: dict[Hashable, int] = {}
    # group -> (-contribution, list order, rank, first-seen, item): min() is the representative
    representative: dict[Hashable, tuple[float, int, int, int, T]] = {}
    seen = 0
    for order, (weight, items) in enumerate(lists):
        if weight <= 0:
            continue
        for rank, item in enumerate(items, start=1):
            key = group(item)
            contribution = rrf_score(rank, weight, k)
            fused[key] = fused.get(key, 0.0) + contribution
            best_rank[key] = min(rank, best_rank.get(key, rank))
            candidate = (-contribution, order, rank, seen, item)
            if key not in representative or candidate[:3] < representative[key][:3]:
                representative[key] = candidate
            seen += 1

    def sort_key(key: Hashable) -> tuple:
        item = representative[key][4]
        last = tie_break(item) if tie_break is not None else representative[key][3]
        return (-fused[key], best_rank[key], last)

    # A 5-seed request at depth 200 fuses up to 1,000 groups for a page of 20: select the top
    # `limit` (heapq.nsmallest is documented equal to sorted(...)[:limit], ties included).
    if limit < len(fused):
        ordered = heapq.nsmallest(limit, fused, key=sort_key)
    else:
        ordered = sorted(fused, key=sort_key)
    return [(fused[key], representative[key][4]) for key in ordered]
