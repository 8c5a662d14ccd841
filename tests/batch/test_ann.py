"""Approximate neighbour search (spotrec.ann) against exact search, spotify/voyager style:
parametrised recall tests, the recall measure itself, and the variant rules on approximate lists."""

from __future__ import annotations

import numpy as np
import pytest

from spotrec.ann import SearchSettings, check_recall, recall_at
from spotrec.errors import SpotrecError
from spotrec.neighbours import NeighbourSearch, exact_top_n

APPROXIMATE = 0  # an ann_threshold every catalogue reaches


def clustered(n: int, dim: int, clusters: int, seed: int, spread: float = 0.3) -> np.ndarray:
    """Vectors around ``clusters`` centres: neighbours live in the query's cluster, as tracks
    of one genre do, which is the structure an inverted-file index exploits."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + spread * rng.normal(size=(n, dim))
    return x.astype(np.float32)


def with_variants(n: int, seed: int) -> np.ndarray:
    """Song ids where about one track in six shares its song with another track."""
    songs = np.arange(n)
    rng = np.random.default_rng(seed)
    copies = rng.choice(n, size=n // 6, replace=False)
    songs[copies] = rng.integers(0, n, size=len(copies))
    return songs


def test_recall_at_counts_ties_as_hits_and_misses_by_score():
    exact = np.array([[0.9, 0.8, 0.7], [0.5, 0.5, -np.inf]], dtype=np.float32)
    # Row 0 misses its 0.8 (found 0.6 instead); row 1 finds a different track tied at 0.5.
    found = np.array([[0.9, 0.7, 0.6], [0.5, 0.5, -np.inf]], dtype=np.float32)
    assert recall_at(found, exact, at=3) == pytest.approx((2 + 2) / (3 + 2))
    assert recall_at(exact, exact, at=3) == 1.0
    assert recall_at(np.full_like(exact, -np.inf), exact, at=3) == 0.0


@pytest.mark.parametrize(
    ("n", "dim", "clusters", "nprobe"),
    [(3000, 16, 40, 8), (6000, 32, 100, 12), (6000, 64, 60, 24)],
)
def test_approximate_lists_reach_the_recall_of_exact_search(n, dim, clusters, nprobe):
    x = clustered(n, dim, clusters, seed=n + dim)
    songs = with_variants(n, seed=dim)
    settings = SearchSettings(ann_threshold=APPROXIMATE, nprobe=nprobe, recall_sample=400)
    search = NeighbourSearch(x, songs, 20, settings=settings)
    assert search.approximate and search.info["index"].startswith("IVF")

    found_idx, found = search.collect(np.arange(n))
    _, exact = exact_top_n(x, songs, 20, progress=False)
    full_recall = recall_at(found, exact)
    assert full_recall >= 0.95
    # The per-build figure is a sample estimate of the same quantity.
    sampled = search.measure_recall(0, n)
    assert sampled["recall_sample"] == 400
    assert sampled["recall_at_10"] == pytest.approx(full_recall, abs=0.03)
    # The variant rules hold whatever the index: full lists, no self, no variant, no repeats.
    assert (found_idx >= 0).all()
    neighbour_songs = songs[found_idx]
    assert (neighbour_songs != songs[:, None]).all()
    assert all(len(set(row)) == len(row) for row in neighbour_songs)
    assert (np.diff(found, axis=1) <= 1e-6).all()


def test_probing_every_cell_is_exact_search():
    n = 2500
    x = clustered(n, 24, 30, seed=5)
    songs = with_variants(n, seed=5)
    probe_all = SearchSettings(ann_threshold=APPROXIMATE, nprobe=10_000)
    search = NeighbourSearch(x, songs, 15, settings=probe_all)
    assert search.info["nprobe"] == search.info["nlist"]
    _, found = search.collect(np.arange(n))
    _, exact = exact_top_n(x, songs, 15, progress=False)
    np.testing.assert_allclose(found, exact, atol=1e-6)
    assert search.measure_recall(0, n)["recall_at_10"] == 1.0


def test_unclustered_vectors_with_one_probe_measure_low_recall_and_fail_the_check():
    # Isotropic vectors have no cells to exploit: one probed cell of ~70 misses most neighbours.
    x = np.random.default_rng(0).normal(size=(5000, 32)).astype(np.float32)
    songs = np.arange(len(x))
    settings = SearchSettings(ann_threshold=APPROXIMATE, nprobe=1, recall_sample=300)
    search = NeighbourSearch(x, songs, 10, settings=settings)
    report = {**search.info, **search.measure_recall(1000, 3000)}
    assert report["recall_at_10"] < 0.6
    with pytest.raises(SpotrecError, match=f"recall@10 is {report['recall_at_10']:.4f}"):
        check_recall("cosine", report, settings)
    check_recall("cosine", report, SearchSettings(min_recall=0.0))  # the override accepts it


def test_small_catalogues_stay_exact_below_the_threshold():
    x = clustered(500, 8, 5, seed=1)
    search = NeighbourSearch(x, np.arange(500), 5, settings=SearchSettings(ann_threshold=501))
    assert search.info["method"] == "exact"
    assert search.measure_recall(0, 500)["recall_at_10"] == 1.0


def test_recall_sample_is_seeded_and_inside_the_query_range():
    from spotrec.ann import sample_queries

    rows = sample_queries(100, 900, 50, seed=3)
    assert len(rows) == 50 and rows.min() >= 100 and rows.max() < 900
    assert (rows == sample_queries(100, 900, 50, seed=3)).all()
    assert (sample_queries(0, 10, 50, seed=3) == np.arange(10)).all()


def test_reusing_the_coarse_probes_gives_what_index_add_and_search_would():
    # The build computes every row's probed cells once and uses them both to fill the index and
    # to search it; a plain IVF index filled by index.add and searched by index.search (which
    # assign cells themselves) must return the same candidates and scores.
    import faiss

    n = 4000
    x = clustered(n, 20, 50, seed=11)
    settings = SearchSettings(ann_threshold=APPROXIMATE, nprobe=5)
    search = NeighbourSearch(x, np.arange(n), 10, settings=settings)
    plain = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(20), 20, search.info["nlist"], faiss.METRIC_INNER_PRODUCT
    )
    plain.quantizer.add(search.index.quantizer.reconstruct_n(0, search.info["nlist"]))
    plain.is_trained = True
    plain.add(search.vectors)
    plain.nprobe = 5
    rows = np.arange(0, n, 3)
    expected_scores, expected = plain.search(search.vectors[rows], 21)
    scores, found = search._first_pass(rows, 21)
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_array_equal(scores, expected_scores)
    assert (search.probes[:, 0] == plain.quantizer.search(search.vectors, 1)[1][:, 0]).all()
