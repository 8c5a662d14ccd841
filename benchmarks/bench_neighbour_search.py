"""Where the neighbour search's CPU goes, and what the alternatives cost (session 5).

On a slice of a saved embedding (default: the first 300,000 rows of a 1M build's cosine.npy),
in one run, CPU seconds of this process (getrusage; under load, compare ratios):

1. exact path: ``faiss.knn`` with k = 1 and k = fetch (101) next to a numpy GEMM of the same
   shape (2,048 queries x the whole slice): is exact search in GEMM or in the heap?
2. IVF coarse step: ``index.add`` + ``index.search`` (two n x nlist coarse searches) against the
   build's one coarse search reused for both (``add_preassigned`` + ``search_preassigned``,
   spotrec.ann.build_ivf_flat); asserts the lists are identical.
3. cell-by-cell search (tried, not kept): the rows of one IVF cell searched together by one
   ``faiss.knn`` over the union of the cells its members probe, against per-query IVF; recall@10
   of both against exact search on 1,000 sampled queries.

    nice -n 10 python benchmarks/bench_neighbour_search.py [--embeddings PATH] [--rows 300000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import faiss
import numpy as np
from faiss.contrib.ivf_tools import add_preassigned, search_preassigned

from spotrec.ann import SearchSettings, cells_for, coarse_probes, recall_at
from spotrec.candidate_filter import filter_candidates
from spotrec.neighbours import _normalized, available_cores
from spotrec.stages import cpu_seconds

DEFAULT = Path("/tmp/s4q/b1m/embeddings/cosine.npy")
TOP_N, FETCH = 50, 101  # the build's default depth and first-pass fetch (top_n + 1 + top_n)


def timed(label: str, work):
    began = cpu_seconds()
    result = work()
    print(f"  {label}: {cpu_seconds() - began:.1f} CPU s", flush=True)
    return result


def exact_path(x: np.ndarray) -> None:
    print("1. exact search, 2,048 queries x all rows (db block 8192, as the build)")
    faiss.cvar.distance_compute_blas_database_bs = 8192
    q = x[:2048]
    ip = faiss.METRIC_INNER_PRODUCT
    timed("faiss.knn k=1", lambda: faiss.knn(q, x, 1, metric=ip))
    timed(f"faiss.knn k={FETCH}", lambda: faiss.knn(q, x, FETCH, metric=ip))
    timed("numpy GEMM only", lambda: q @ x.T)


def trained_ivf(x: np.ndarray, nlist: int):
    quantizer = faiss.IndexFlatIP(x.shape[1])
    index = faiss.IndexIVFFlat(quantizer, x.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    rows = np.random.default_rng(0).choice(len(x), min(len(x), 39 * nlist), replace=False)
    index.train(x[np.sort(rows)])
    return index


def coarse_step(x: np.ndarray, nlist: int, nprobe: int) -> None:
    print(f"2. IVF{nlist},Flat nprobe {nprobe}: fill + search every row's coarse cells")
    plain = trained_ivf(x, nlist)
    plain.nprobe = nprobe
    timed("index.add (its own coarse search)", lambda: plain.add(x))
    timed(
        "index.search coarse step (quantizer, k=nprobe)", lambda: plain.quantizer.search(x, nprobe)
    )
    probes = timed(
        "build: one coarse_probes for both", lambda: coarse_probes(plain.quantizer, x, nprobe)
    )
    reused = faiss.IndexIVFFlat(plain.quantizer, x.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    reused.is_trained, reused.nprobe = True, nprobe
    add_preassigned(reused, x, np.ascontiguousarray(probes[:, 0]))
    rows = np.arange(0, len(x), 97)
    same = (
        plain.search(x[rows], FETCH)[1]
        == search_preassigned(reused, x[rows], FETCH, probes[rows])[1]
    )
    print(f"  identical lists on {len(rows)} queries: {bool(same.all())}")


def cell_by_cell(x: np.ndarray, songs: np.ndarray, nlist: int, probes: int, nprobe: int) -> None:
    print(f"3. cell-by-cell (union of {probes} probes per member) vs per-query IVF nprobe {nprobe}")
    sample = np.sort(np.random.default_rng(0).choice(len(x), 1000, replace=False))
    s, c = faiss.knn(x[sample], x, FETCH, metric=faiss.METRIC_INNER_PRODUCT)
    exact = filter_candidates(c, s, sample, songs, TOP_N)[1]
    index = trained_ivf(x, nlist)
    probed = coarse_probes(index.quantizer, x, probes)
    cell = probed[:, 0]
    order = np.argsort(cell, kind="stable")
    bounds = np.searchsorted(cell[order], np.arange(nlist + 1))
    pairs = np.unique(cell[:, None] * nlist + probed)
    cand_bounds = np.searchsorted(pairs // nlist, np.arange(nlist + 1))

    def lists(rows):
        out = np.empty((len(rows), TOP_N), dtype=np.float32)
        by_cell = np.argsort(cell[rows], kind="stable")
        cells, starts = np.unique(cell[rows][by_cell], return_index=True)
        for c_, lo, hi in zip(cells, starts, np.append(starts[1:], len(rows)), strict=True):
            slots = by_cell[lo:hi]
            near = pairs[cand_bounds[c_] : cand_bounds[c_ + 1]] % nlist
            cand = np.concatenate([order[bounds[p] : bounds[p + 1]] for p in near])
            sc, ci = faiss.knn(
                x[rows[slots]], x[cand], min(FETCH, len(cand)), metric=faiss.METRIC_INNER_PRODUCT
            )
            ci = np.where(ci >= 0, cand[np.maximum(ci, 0)], -1)
            out[slots] = filter_candidates(ci, sc, rows[slots], songs, TOP_N)[1][:, :TOP_N]
        return out

    print(f"  cell-by-cell recall@10 {recall_at(lists(sample), exact):.4f}")
    timed(f"cell-by-cell, all {len(x):,} queries", lambda: lists(np.arange(len(x))))
    index.add(x)
    index.nprobe = nprobe
    s, c = index.search(x[sample], FETCH)
    found = filter_candidates(c, s, sample, songs, TOP_N)[1]
    print(f"  per-query IVF recall@10 {recall_at(found, exact):.4f}")
    timed(f"per-query IVF, all {len(x):,} queries", lambda: index.search(x, FETCH))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", type=Path, default=DEFAULT)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--probes", type=int, default=4, help="cell-by-cell probes per member")
    parser.add_argument("--nprobe", type=int, default=SearchSettings().nprobe)
    parser.add_argument("--skip", default="", help="comma list of parts to skip: 1,2,3")
    args = parser.parse_args()
    faiss.omp_set_num_threads(available_cores())
    x = _normalized(np.load(args.embeddings, mmap_mode="r")[: args.rows])
    nlist = cells_for(len(x))
    cores = available_cores()
    print(f"{len(x):,} x {x.shape[1]} from {args.embeddings}, nlist {nlist}, {cores} cores")
    skip = set(args.skip.split(","))
    if "1" not in skip:
        exact_path(x)
    if "2" not in skip:
        coarse_step(x, nlist, args.nprobe)
    if "3" not in skip:
        songs = np.arange(len(x))  # no variants: the search itself is what is compared
        cell_by_cell(x, songs, nlist, args.probes, args.nprobe)


if __name__ == "__main__":
    main()
