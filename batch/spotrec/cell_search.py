"""Approximate top-k by inverted-file cells, searched cell by cell with BLAS.

The neighbour step's queries ARE the catalogue, so instead of scanning ``nprobe`` cells per query
(FAISS ``IndexIVFFlat.search``: one SIMD dot product per (query, vector), ~1.4 GFlop/s per core
at 1M x 130-d), the catalogue rows of one k-means cell form one block of queries and are
searched together with one ``faiss.knn`` call (a GEMM plus FAISS's C heap) over a shared set of
candidate rows: the members of every cell that any of the block's queries probes
(``probes`` nearest centroids per query, the block's own cell included).

Each query therefore sees at least the cells it would have probed itself (and usually more: the
union over its cell-mates), so recall is at least per-query IVF's at the same ``probes``; the
build measures it against exact search on a sample every time (spotrec.neighbours).

A query's list depends only on its cell's candidate set, which is computed from the whole
catalogue, so any subset of query rows (a shard, the recall sample) gets the same lists as the
full run: shards union to the unsharded result exactly.
"""

from __future__ import annotations

import logging
import sys
import time

import faiss
import numpy as np

log = logging.getLogger(__name__)


class CellSearch:
    """Cells of a trained coarse quantizer, their members, and each cell's candidate rows."""

    def __init__(self, vectors: np.ndarray, quantizer, probes: int) -> None:
        self.vectors = vectors
        nlist = quantizer.ntotal
        self.probes = max(1, min(probes, nlist))
        # One coarse search gives both each row's cell (its nearest centroid) and its probes.
        _, probed = quantizer.search(vectors, self.probes)
        self.cell = probed[:, 0].copy()
        self.order = np.argsort(self.cell, kind="stable")
        self.bounds = np.searchsorted(self.cell[self.order], np.arange(nlist + 1))
        # Candidate cells of cell c: every cell probed by a member of c (c itself included,
        # since each member's first probe is c). Deduplicated (cell, probed cell) pairs, CSR.
        pairs = np.unique(self.cell[:, None].astype(np.int64) * nlist + probed)
        del probed
        self.cand_cells = (pairs % nlist).astype(np.int64)
        self.cand_bounds = np.searchsorted(pairs // nlist, np.arange(nlist + 1))
        sizes = np.diff(self.bounds)
        per_cell = np.add.reduceat(np.append(sizes[self.cand_cells], 0), self.cand_bounds[:-1]) * (
            np.diff(self.cand_bounds) > 0
        )
        # Mean candidates per query (the search's work, in vectors scanned per query).
        self.mean_candidates = float((per_cell * sizes).sum() / max(len(vectors), 1))

    def candidates(self, cell: int) -> np.ndarray:
        cells = self.cand_cells[self.cand_bounds[cell] : self.cand_bounds[cell + 1]]
        return np.concatenate([self.order[self.bounds[c] : self.bounds[c + 1]] for c in cells])

    def blocks(self, rows: np.ndarray, k: int, *, progress: bool = False):
        """Yield, cell by cell, (positions in ``rows``, scores (b, k) float32, catalogue rows
        (b, k) int64, -1 = none): each query's top-k among its cell's candidates, sorted by
        descending inner product. Every position of ``rows`` appears exactly once."""
        rows = np.asarray(rows, dtype=np.int64)
        by_cell = np.argsort(self.cell[rows], kind="stable")
        cells, starts = np.unique(self.cell[rows][by_cell], return_index=True)
        ends = np.append(starts[1:], len(rows))
        # A bar on a terminal, a log line every ~5% of cells elsewhere (CI, AWS Batch).
        on_terminal = progress and sys.stderr.isatty()
        log_every = max(1, len(cells) // 20) if progress and not on_terminal else 0
        began = time.perf_counter()
        steps = enumerate(zip(cells, starts, ends, strict=True))
        if on_terminal:
            from tqdm import tqdm

            steps = tqdm(steps, total=len(cells), desc="knn cells", unit="cell", leave=False)
        for done, (cell, lo, hi) in steps:
            if log_every and done and done % log_every == 0:
                log.info(
                    "knn: %d of %d cells (%d of %d queries) in %.0f s",
                    done,
                    len(cells),
                    lo,
                    len(rows),
                    time.perf_counter() - began,
                )
            slots = by_cell[lo:hi]
            cand = self.candidates(cell)
            kk = min(k, len(cand))
            queries = self.vectors[rows[slots]]
            s, i = faiss.knn(queries, self.vectors[cand], kk, metric=faiss.METRIC_INNER_PRODUCT)
            found = np.where(i >= 0, cand[np.maximum(i, 0)], -1)
            if kk < k:  # a cell whose candidates are fewer than k: pad as FAISS would
                s = np.pad(s, ((0, 0), (0, k - kk)), constant_values=-np.inf)
                found = np.pad(found, ((0, 0), (0, k - kk)), constant_values=-1)
            yield slots, s, found
