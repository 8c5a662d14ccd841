"""The search index of a release: every word prefix of every track -> its best matches.

``build_search_index`` makes the ``S#<prefix>`` items' content for writers/items.py (which
re-exports it): every prefix (1..max_prefix letters) of every word of the normalized name and
artists (``spotrec_serving.items.search_words``, the same normalization the Lambda's search
uses), the tracks most popular first (ties by id), each once, capped at ``cap``; the total counts
every match.

Leaf pruning: a prefix whose parent (one letter shorter) has at most ``leaf`` matches is not
written, since the reader resolves a word to its longest indexed prefix and, when that is such a
small "leaf" list, checks the full words on the few tracks' summaries it fetches anyway. On the
real catalogue this keeps 29k of 170k prefix items (leaf 50): 40% fewer items per release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spotrec_serving.items import search_words

if TYPE_CHECKING:
    from spotrec.writers.release_catalogue import ReleaseCatalogue


DEFAULT_SEARCH_LEAF = 50


def build_search_index(
    catalogue: ReleaseCatalogue, max_prefix: int, cap: int, leaf: int = DEFAULT_SEARCH_LEAF
) -> dict[str, tuple[int, list[int]]]:
    """prefix -> (total matches, the `cap` most popular matching track indices), for the
    prefixes that are one letter long or whose parent has more than `leaf` matches."""
    totals: dict[str, int] = {}
    kept: dict[str, list[int]] = {}
    for i in catalogue.popularity_order():
        summary = catalogue.summaries[i]
        words = set(search_words(summary[1]))
        for artist in summary[2]:
            words.update(search_words(artist))
        prefixes = {w[:length] for w in words for length in range(1, min(len(w), max_prefix) + 1)}
        for prefix in prefixes:
            count = totals.get(prefix, 0)
            totals[prefix] = count + 1
            if count == 0:
                kept[prefix] = [i]
            elif count < cap:
                kept[prefix].append(i)
    return {
        prefix: (totals[prefix], kept[prefix])
        for prefix in totals
        if len(prefix) == 1 or totals[prefix[:-1]] > leaf
    }
