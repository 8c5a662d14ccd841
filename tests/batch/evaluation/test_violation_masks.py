"""The variant check's duplicate-song mask (metrics._violation_masks) equals the stable-argsort
formulation it replaced, on random lists with repeats, variants and padding."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from spotrec.evaluation.metrics import NeighbourLists, _violation_masks


def reference_duplicates(songs: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Every occurrence of a song after its first in the list, row by row in Python."""
    out = np.zeros_like(valid)
    for r in range(songs.shape[0]):
        seen = set()
        for j in range(songs.shape[1]):
            if valid[r, j]:
                out[r, j] = songs[r, j] in seen
                seen.add(songs[r, j])
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_duplicate_mask_equals_a_row_by_row_reference(seed):
    rng = np.random.default_rng(seed)
    n, width = 150, 30
    codes = rng.integers(0, 60, n)  # song per track; many variants, so repeats are common
    indices = rng.integers(0, n, (n, width))
    indices[rng.random((n, width)) < 0.2] = -1  # padding anywhere
    lists = NeighbourLists.from_indices(indices)
    # _violation_masks reads only the catalogue's song codes (sentinel row: -1)
    catalogue = SimpleNamespace(song_codes=np.append(codes, -1))
    seeds = np.arange(n)
    seed_variant, duplicate = _violation_masks(catalogue, lists, seeds, None)
    valid = indices >= 0
    songs = np.where(valid, codes[np.clip(indices, 0, None)], -1)
    np.testing.assert_array_equal(duplicate, reference_duplicates(songs, valid))
    np.testing.assert_array_equal(seed_variant, valid & (songs == codes[:, None]))
    assert duplicate.any() and seed_variant.any()


def test_rows_with_violations_in_blocks_equal_one_block():
    from spotrec.evaluation.metrics import _rows_with_violations

    rng = np.random.default_rng(2)
    n = 120
    codes = rng.integers(0, 50, n)
    indices = rng.integers(0, n, (n, 20))
    indices[rng.random((n, 20)) < 0.3] = -1
    lists = NeighbourLists.from_indices(indices)
    catalogue = SimpleNamespace(song_codes=np.append(codes, -1))
    seeds = np.arange(n)
    whole = _rows_with_violations(catalogue, lists, seeds, block=n)
    seed_variant, duplicate = _violation_masks(catalogue, lists, seeds, None)
    np.testing.assert_array_equal(whole, (seed_variant | duplicate).any(axis=1))
    for block in (1, 7, 50):
        np.testing.assert_array_equal(_rows_with_violations(catalogue, lists, seeds, block), whole)
    assert whole.any() and not whole.all()
