"""Approximate neighbour search past exact search's budget: the FAISS index, its tuning, and the
recall check that every build runs.

Exact search (neighbours.exact_top_n) is quadratic: 37 min for 1M tracks on 2 cores. Above
``SearchSettings.ann_threshold`` catalogue rows the neighbour step searches an inverted-file
index instead (``IVF<nlist>,Flat``, chosen by measurement, see docs/scale.md): the catalogue is
split into ``nlist`` k-means cells and each query scans only the ``nprobe`` cells nearest to
it, with exact inner products inside them, so recall is lost only when a true neighbour lives in
a cell that was not probed.

FAISS behaviour this relies on (faiss 1.15, checked on the installed build):
* ``IndexIVF`` trains its coarse quantizer with ``cp.niter = 10`` k-means iterations on at most
  ``cp.max_points_per_centroid = 256`` points per cell (it subsamples a larger training set
  itself) and warns below ``min_points_per_centroid = 39``; we pass a seeded sample of
  ``TRAIN_POINTS_PER_CELL`` per cell so training cost does not grow with the catalogue.
* A batch of queries is split across OpenMP threads (``parallel_mode`` 0), so the pipeline's
  query batches keep both cores busy; ``faiss.omp_set_num_threads`` caps them.
* ``nprobe`` is read at search time; it can change without retraining.

Recall is measured, never assumed: ``measure_recall`` compares the approximate lists of a seeded
sample of queries with exact lists for the same queries, after the same variant filtering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and faiss load inside the functions: the CLI imports the defaults
    import numpy as np

DEFAULT_ANN_THRESHOLD = 200_000  # exact search of 200k rows: ~1.5 min per model on 2 cores
DEFAULT_MIN_RECALL = 0.95
DEFAULT_RECALL_SAMPLE = 1000
RECALL_AT = 10
# FAISS's own floor (min_points_per_centroid = 39, below it warns): at 1M tracks k-means on
# 39 instead of 64 points per cell cut the index build from 152 to 113 CPU s with the same
# recall (docs/performance.md, "Session 4: search and store speed").
TRAIN_POINTS_PER_CELL = 39
# A small catalogue gets at most n / 64 cells (so cells stay populated); this was the training
# sample size too until session 4, and small-catalogue recall depends on it.
MIN_ROWS_PER_CELL = 64
# A cell holds ~n / nlist tracks; 4*sqrt(n) cells is the low end of FAISS's guideline
# (4..16 * sqrt(n)), which keeps k-means training cheap while nprobe buys the recall back.
CELLS_PER_SQRT_N = 4
# Scanning cost grows with nprobe (~19 CPU s per probe over 1M queries, on top of a fixed
# ~100 s of coarse assignment and filtering). Measured at 1M tracks, recall@10 1,000 queries:
# nprobe 12 0.942, 16 0.957, 24 0.974; 20 keeps a margin over the 0.95 floor for ~20% less
# search than 24 (docs/performance.md, "Session 4: search and store speed").
DEFAULT_NPROBE = 20


@dataclass(frozen=True)
class SearchSettings:
    """How the neighbour step searches (build settings)."""

    ann_threshold: int = DEFAULT_ANN_THRESHOLD  # catalogue rows from which search is approximate
    min_recall: float = DEFAULT_MIN_RECALL  # recall@10 below this fails the build; 0 = accept any
    recall_sample: int = DEFAULT_RECALL_SAMPLE  # queries per model (per shard) checked vs exact
    nprobe: int = DEFAULT_NPROBE
    nlist: int | None = None  # None: CELLS_PER_SQRT_N * sqrt(n)
    seed: int = 0

    def approximate(self, n_rows: int) -> bool:
        return n_rows >= self.ann_threshold


def cells_for(n_rows: int) -> int:
    return max(1, min(n_rows // MIN_ROWS_PER_CELL, round(CELLS_PER_SQRT_N * math.sqrt(n_rows))))


def build_ivf_flat(vectors: np.ndarray, settings: SearchSettings) -> tuple[object, dict]:
    """A trained and filled IVF-Flat inner-product index over L2-normalized ``vectors``, its
    parameters for the manifest, and ``probes``: every row's ``nprobe`` nearest cells.

    Why probes are kept: the queries ARE the catalogue, so one coarse search of every row
    serves twice, as each row's cell when filling the index (``probes[:, 0]``, what
    ``index.add`` would compute) and as its probed cells when it is a query
    (``search_preassigned``, what ``index.search`` would compute). That saves one of the two
    n x nlist GEMMs (~60 CPU s at 1M tracks, docs/performance.md "Session 5"); lists are
    unchanged. n x nprobe int64: 160 MB at 1M tracks, nprobe 20."""
    import faiss
    import numpy as np
    from faiss.contrib.ivf_tools import add_preassigned

    n, dim = vectors.shape
    nlist = settings.nlist or cells_for(n)
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = settings.seed
    rng = np.random.default_rng(settings.seed)
    n_train = min(n, TRAIN_POINTS_PER_CELL * nlist)
    train_rows = np.sort(rng.choice(n, size=n_train, replace=False))
    index.train(vectors[train_rows])
    index.nprobe = min(settings.nprobe, nlist)
    # search_preassigned runs on ONE thread in faiss's default parallel_mode 0 (only
    # IndexIVF.search splits queries across threads); mode 3 splits the queries inside it too.
    # Each query is still scanned alone, in the same probe order: same lists.
    index.parallel_mode = 3
    probes = coarse_probes(quantizer, vectors, index.nprobe)
    add_preassigned(index, vectors, np.ascontiguousarray(probes[:, 0]))
    params = {"index": f"IVF{nlist},Flat", "nlist": nlist, "nprobe": int(index.nprobe)}
    return index, {**params, "train_points": n_train}, probes


def coarse_probes(quantizer, vectors: np.ndarray, nprobe: int, batch: int = 65536):
    """Each row's ``nprobe`` nearest cells, nearest first (int64, as IndexIVF.search's own
    coarse step), computed in row batches so the score buffer stays small."""
    import numpy as np

    probes = np.empty((len(vectors), nprobe), dtype=np.int64)
    for lo in range(0, len(vectors), batch):
        probes[lo : lo + batch] = quantizer.search(vectors[lo : lo + batch], nprobe)[1]
    return probes


def sample_queries(start: int, stop: int, size: int, seed: int) -> np.ndarray:
    """A seeded, sorted sample of query rows in start..stop (all of them when fewer)."""
    import numpy as np

    count = stop - start
    if count <= size:
        return np.arange(start, stop)
    return start + np.sort(np.random.default_rng(seed).choice(count, size=size, replace=False))


def recall_at(
    found_scores: np.ndarray, exact_scores: np.ndarray, at: int = RECALL_AT, tolerance=2.0**-20
) -> float:
    """Share of the exact top-``at`` matched by the approximate top-``at``, by score.

    A found neighbour counts when its score reaches the exact ``at``-th score (minus float
    rounding): two tracks with equal scores are equally right, so swapping tied variants is not
    a miss (the ann-benchmarks convention). Both inputs are per-row sorted descending, -inf for
    empty slots; rows with fewer than ``at`` exact neighbours count only their filled slots.
    """
    import numpy as np

    exact = exact_scores[:, :at]
    found = found_scores[:, :at]
    filled = np.isfinite(exact).sum(axis=1)
    if not filled.sum():
        return 1.0
    last = np.take_along_axis(exact, np.maximum(filled - 1, 0)[:, None], axis=1)
    hits = (np.isfinite(found) & (found >= last - tolerance)).sum(axis=1)
    return float(np.minimum(hits, filled).sum() / filled.sum())


def check_recall(model: str, report: dict, settings: SearchSettings) -> None:
    """Fail the build loudly when the measured recall is below the setting."""
    recall = report[f"recall_at_{RECALL_AT}"]
    if recall < settings.min_recall:
        from spotrec.errors import SpotrecError

        raise SpotrecError(
            f"{model}: approximate neighbour search recall@{RECALL_AT} is {recall:.4f} on "
            f"{report['recall_sample']} sampled queries, below --min-recall "
            f"{settings.min_recall} ({report['index']}, nprobe {report.get('nprobe')}). "
            "Raise --ann-nprobe, or pass --min-recall 0 to accept it."
        )
