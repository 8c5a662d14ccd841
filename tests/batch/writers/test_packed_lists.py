"""The vectorised N# writer packs exactly what the one format definition (pack_list) packs."""

from __future__ import annotations

import numpy as np
import pytest

from spotrec.writers.packed_lists import packed_rows
from spotrec_serving.items import pack_list, unpack_list


def grouped_table(rng, rows: int, longest: int):
    lengths = rng.integers(0, longest + 1, rows)
    lengths[::7] = 0  # empty rows (a track with no neighbours)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    neighbours = rng.integers(0, 2**24 - 1, starts[-1])
    scores = np.round(rng.random(starts[-1]) * rng.choice([1e-4, 1.0, 30.0]), 6)
    for row in range(0, rows, 5):  # all-equal scores: no span, every code 255
        scores[starts[row] : starts[row + 1]] = 0.25
    for row in range(3, rows, 11):  # scores that land on .5 codes: round half to even
        n = starts[row + 1] - starts[row]
        scores[starts[row] : starts[row + 1]] = np.linspace(1.0, 0.0, n) if n else []
    return neighbours, scores, starts


@pytest.mark.parametrize(("seed", "depth"), [(0, 50), (1, 7), (2, 200), (3, 1)])
def test_packed_rows_equal_pack_list_byte_for_byte(seed, depth):
    rng = np.random.default_rng(seed)
    neighbours, scores, starts = grouped_table(rng, rows=300, longest=60)
    got = dict(packed_rows(neighbours, scores, starts, depth))
    assert sorted(got) == list(range(300))
    for row in range(300):
        lo, hi = starts[row], starts[row + 1]
        indexes, row_scores = neighbours[lo:hi].tolist(), scores[lo:hi].tolist()
        expected = pack_list(row, indexes[:depth], row_scores[:depth])
        assert got[row] == expected, row
        assert list(unpack_list(got[row]).indexes) == indexes[:depth]
    # Chunks of rows (the memory bound at 1M tracks) give the same bytes, row numbers included.
    assert dict(packed_rows(neighbours, scores, starts, depth, chunk_rows=17)) == got


def test_an_index_past_u24_is_refused():
    with pytest.raises(ValueError, match="catalogue index"):
        list(packed_rows(np.array([2**24]), np.array([1.0]), np.array([0, 1]), 5))


def test_unseeded_rows_equal_pack_list_without_a_seed():
    # the G#/AS# form: no seed in the header, chunked or not
    neighbours, scores, starts = grouped_table(np.random.default_rng(5), rows=120, longest=50)
    got = dict(packed_rows(neighbours, scores, starts, 50, chunk_rows=13, seeded=False))
    assert sorted(got) == list(range(120))
    for row in range(120):
        lo, hi = starts[row], starts[row + 1]
        assert got[row] == pack_list(None, neighbours[lo:hi].tolist(), scores[lo:hi].tolist())
        assert unpack_list(got[row]).seed is None
