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

How: Python only normalises each distinct name or artist string once and numbers its words;
the (track, prefix) pairs are then expanded, de-duplicated and grouped with numpy. A per-track
loop over sets of prefix strings was ~90 s of the store stage at 1M tracks (docs/performance.md,
"Session 5: store stage"); ``tests/batch/writers/test_search_index.py`` checks this against that
loop.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from spotrec_serving.items import pack_search, search_words

if TYPE_CHECKING:
    import numpy as np

    from spotrec.writers.release_catalogue import ReleaseCatalogue


DEFAULT_SEARCH_LEAF = 50


class SearchIndex:
    """The kept prefixes in sorted order, their totals, and their kept tracks (catalogue
    indexes, most popular first) as one flat array cut by ``bounds``."""

    def __init__(self, prefixes: list[str], totals: np.ndarray, kept: np.ndarray, bounds):
        self.prefixes = prefixes
        self.totals = totals
        self.kept = kept
        self.bounds = bounds

    def __len__(self) -> int:
        return len(self.prefixes)

    def __contains__(self, prefix: str) -> bool:
        return prefix in self._position

    def __getitem__(self, prefix: str) -> tuple[int, list[int]]:
        p = self._position[prefix]
        return int(self.totals[p]), self.kept[self.bounds[p] : self.bounds[p + 1]].tolist()

    def __iter__(self) -> Iterator[str]:
        return iter(self.prefixes)

    @property
    def _position(self) -> dict[str, int]:
        if not hasattr(self, "_positions"):
            self._positions = {prefix: p for p, prefix in enumerate(self.prefixes)}
        return self._positions

    def packed(self) -> Iterator[tuple[str, bytes]]:
        """(prefix, pack_search body) in sorted prefix order, byte for byte pack_search's."""
        import numpy as np

        u24 = self.kept.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        bounds = self.bounds
        for p, prefix in enumerate(self.prefixes):
            lo, hi = bounds[p], bounds[p + 1]
            yield prefix, pack_search(int(self.totals[p]), []) + u24[3 * lo : 3 * hi]


def _word_table(catalogue: ReleaseCatalogue, order: list[int]):
    """Per track in ``order``: its words as ids (repeats allowed), and the distinct words."""
    import numpy as np

    word_ids: dict[str, int] = {}
    cached: dict[str, list[int]] = {}  # a name or artist string -> its word ids

    def ids_of(text: str) -> list[int]:
        found = cached.get(text)
        if found is None:
            found = [word_ids.setdefault(w, len(word_ids)) for w in search_words(text)]
            cached[text] = found
        return found

    flat: list[int] = []
    counts: list[int] = []
    summaries = catalogue.summaries
    for i in order:
        summary = summaries[i]
        before = len(flat)
        flat += ids_of(summary[1])
        for artist in summary[2]:
            flat += ids_of(artist)
        counts.append(len(flat) - before)
    return np.asarray(flat, dtype=np.int64), np.asarray(counts, dtype=np.int64), list(word_ids)


def build_search_index(
    catalogue: ReleaseCatalogue, max_prefix: int, cap: int, leaf: int = DEFAULT_SEARCH_LEAF
) -> SearchIndex:
    """prefix -> (total matches, the `cap` most popular matching track indices), for the
    prefixes that are one letter long or whose parent has more than `leaf` matches."""
    import numpy as np

    order = catalogue.popularity_order()
    word_flat, word_counts, words = _word_table(catalogue, order)
    # Every distinct prefix, numbered in sorted order (the order items are written in).
    prefix_lists = [[w[:n] for n in range(1, min(len(w), max_prefix) + 1)] for w in words]
    prefixes = sorted({p for ps in prefix_lists for p in ps})
    number = {p: k for k, p in enumerate(prefixes)}
    sizes = np.fromiter((len(ps) for ps in prefix_lists), dtype=np.int64, count=len(words))
    starts = np.r_[0, np.cumsum(sizes)]
    word_prefixes = np.fromiter(
        (number[p] for ps in prefix_lists for p in ps), dtype=np.int64, count=int(starts[-1])
    )
    del prefix_lists
    # (popularity rank, prefix) of every prefix of every word of every track, then each pair once
    rank = np.repeat(np.arange(len(order), dtype=np.int64), word_counts)
    per_word = sizes[word_flat]
    entry_rank = np.repeat(rank, per_word)
    offsets = np.arange(len(entry_rank)) - np.repeat(np.cumsum(per_word) - per_word, per_word)
    entry_prefix = word_prefixes[np.repeat(starts[word_flat], per_word) + offsets]
    del rank, per_word, offsets, word_flat
    n_prefixes = max(len(prefixes), 1)
    pairs = entry_prefix * len(order) + entry_rank
    pairs.sort()  # by prefix, then rank; then each pair once (np.unique's hash path was 5x slower)
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    del entry_rank, entry_prefix
    pair_prefix, pair_rank = np.divmod(pairs, max(len(order), 1))
    del pairs
    totals = np.bincount(pair_prefix, minlength=n_prefixes)[: len(prefixes)]
    first = np.r_[0, np.cumsum(totals)][:-1]
    in_group = np.arange(len(pair_prefix)) - first[pair_prefix]
    # leaf pruning: one letter, or a parent (one letter shorter, itself a prefix) over `leaf`
    parents = np.fromiter(
        (k if len(p) == 1 else number[p[:-1]] for k, p in enumerate(prefixes)),
        dtype=np.int64,
        count=len(prefixes),
    )
    keep = (totals[parents] > leaf) | (
        np.fromiter(map(len, prefixes), np.int64, len(prefixes)) == 1
    )
    del number
    chosen = (in_group < cap) & keep[pair_prefix]
    kept_rank = pair_rank[chosen]
    kept_counts = np.minimum(totals, cap)[keep]
    index_order = np.asarray(order, dtype=np.int64)
    return SearchIndex(
        [p for p, k in zip(prefixes, keep.tolist(), strict=True) if k],
        totals[keep],
        index_order[kept_rank],
        np.r_[0, np.cumsum(kept_counts)].tolist(),
    )
