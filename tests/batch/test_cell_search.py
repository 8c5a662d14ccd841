"""spotrec.cell_search: cell-by-cell search sees at least each query's own probed cells, and a
query's list does not depend on which other rows are searched with it (shards, recall sample)."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
from tests.batch.test_ann import clustered, with_variants

from spotrec.ann import SearchSettings, recall_at, train_cells
from spotrec.cell_search import CellSearch
from spotrec.neighbours import NeighbourSearch, _normalized, exact_top_n


@pytest.mark.parametrize(("probes", "seed"), [(1, 0), (3, 1), (6, 2)])
def test_each_query_is_searched_over_a_superset_of_its_own_probed_cells(probes, seed):
    x = _normalized(clustered(4000, 24, 50, seed=seed, spread=0.6))
    quantizer, params = train_cells(x, SearchSettings(nprobe=probes, seed=seed))
    cells = CellSearch(x, quantizer, probes)
    _, own = quantizer.search(x, probes)
    k = 30
    # Per-query IVF-Flat with the same cells and probes: what FAISS would return.
    ivf = faiss.IndexIVFFlat(quantizer, x.shape[1], params["nlist"], faiss.METRIC_INNER_PRODUCT)
    ivf.add(x)
    ivf.nprobe = probes
    ivf_scores, ivf_rows = ivf.search(x, k)
    by_cell = np.full((len(x), k), -np.inf, dtype=np.float32)
    for slots, scores, found in cells.blocks(np.arange(len(x)), k):
        by_cell[slots] = scores
        for slot in slots[:5]:
            searched = np.unique(cells.cell[cells.candidates(cells.cell[slot])])
            assert set(own[slot]) <= set(searched)
        assert (found[:, 0] >= 0).all()
    # A superset of candidates: every rank's score is at least per-query IVF's (where IVF
    # filled the rank; it marks empty slots with -FLT_MAX, cell search with -inf).
    filled = ivf_rows >= 0
    assert (by_cell[filled] >= ivf_scores[filled] - 1e-5).all()
    # One probe is the query's own cell for every cell-mate: exactly per-query IVF. More probes:
    # the cell-mates' probes find better neighbours for some queries.
    assert (by_cell > ivf_scores + 1e-4).any() == (probes > 1)
    assert cells.mean_candidates >= probes * len(x) / params["nlist"] * 0.5


def test_a_querys_list_is_the_same_whatever_rows_are_searched_with_it():
    n = 3000
    x = clustered(n, 16, 40, seed=7)
    songs = with_variants(n, seed=7)
    settings = SearchSettings(ann_threshold=0, nprobe=3, recall_sample=200)
    search = NeighbourSearch(x, songs, 12, settings=settings)
    full_idx, full_scores = search.collect(np.arange(n))
    pieces = [search.collect(np.arange(lo, min(lo + 700, n))) for lo in range(0, n, 700)]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in pieces]), full_idx)
    sample = np.random.default_rng(1).choice(n, 150, replace=False)
    sample_idx, _ = search.collect(sample)
    np.testing.assert_array_equal(sample_idx, full_idx[sample])
    # And the sampled recall the build records measures exactly these lists.
    _, exact = exact_top_n(x, songs, 12, progress=False)
    rows = np.sort(np.random.default_rng(settings.seed).choice(n, 200, replace=False))
    assert search.measure_recall(0, n)["recall_at_10"] == pytest.approx(
        recall_at(full_scores[rows], exact[rows]), abs=1e-4
    )
