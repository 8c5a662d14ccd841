"""Which approximate FAISS index for the neighbour step: IVF-Flat, IVF-PQ, HNSW, side by side.

Same embeddings, same run, same threads. For each index: build time (train + add), index bytes
(``faiss.serialize_index``, what the index holds in memory), the time for ``--queries`` queries
at the pipeline's k (top_n + 1 + margin = 101), that time extrapolated to every row of the
catalogue, and recall@10 against exact search on those queries (score-based, ties count, as in
spotrec.ann.recall_at; raw FAISS lists before variant filtering, identical for every index).

    nice -n 10 python benchmarks/bench_scale.py --embeddings BUILD/embeddings/cosine.npy \\
        [--rows 300000] [--queries 5000] [--top-n 50]

Without --embeddings it makes clustered Gaussian vectors (--rows x --dim).
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import faiss
import numpy as np

from spotrec.ann import CELLS_PER_SQRT_N, TRAIN_POINTS_PER_CELL, recall_at
from spotrec.neighbours import available_cores


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_vectors(args) -> np.ndarray:
    rng = np.random.default_rng(0)
    if args.embeddings:
        x = np.load(args.embeddings, mmap_mode="r")
        rows = np.sort(rng.choice(len(x), size=min(args.rows, len(x)), replace=False))
        x = np.ascontiguousarray(x[rows], dtype=np.float32)
    else:
        centres = rng.normal(size=(2000, args.dim)).astype(np.float32)
        x = centres[rng.integers(0, 2000, args.rows)]
        x += 0.5 * rng.normal(size=x.shape).astype(np.float32)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def candidates(n: int, dim: int) -> list[tuple[str, str, dict]]:
    """(label, factory string, search parameters)."""
    nlist = round(CELLS_PER_SQRT_N * math.sqrt(n))
    pq_m = next(m for m in (dim // 4, 32, 16, 8, 4, 2, 1) if m and dim % m == 0)
    out = [(f"IVF-Flat nprobe={p}", f"IVF{nlist},Flat", {"nprobe": p}) for p in (8, 16, 24, 32)]
    out += [(f"IVF-PQ{pq_m} nprobe=24", f"IVF{nlist},PQ{pq_m}", {"nprobe": 24})]
    out += [(f"IVF-PQ{pq_m}+refine nprobe=24", f"IVF{nlist},PQ{pq_m},RFlat", {"nprobe": 24})]
    out += [(f"HNSW32 efSearch={e}", "HNSW32,Flat", {"efSearch": e}) for e in (128, 256)]
    return out


def set_params(index, params: dict) -> None:
    for name, value in params.items():
        faiss.ParameterSpace().set_index_parameter(index, name, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embeddings", help="a build's embeddings/<model>.npy")
    parser.add_argument("--rows", type=int, default=300_000, help="catalogue rows (subsample)")
    parser.add_argument("--dim", type=int, default=64, help="dims of generated vectors")
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--top-n", type=int, default=50)
    args = parser.parse_args()
    faiss.omp_set_num_threads(available_cores())
    x = load_vectors(args)
    n, dim = x.shape
    k = args.top_n + 1 + args.top_n
    rng = np.random.default_rng(1)
    q = x[np.sort(rng.choice(n, size=min(args.queries, n), replace=False))]
    scale = n / len(q)
    print(f"{n} rows x {dim} dims, {len(q)} timed queries, k={k}, {available_cores()} threads")

    began = time.perf_counter()
    exact_scores, _ = faiss.knn(q, x, k, metric=faiss.METRIC_INNER_PRODUCT)
    exact_s = time.perf_counter() - began
    print(
        f"{'index':32} {'build s':>8} {'MB':>7} {'query s':>8} {'all rows s':>10} {'recall@10':>9}"
    )
    print(
        f"{'Flat (exact)':32} {0.0:8.1f} {x.nbytes / 2**20:7.0f} {exact_s:8.2f} "
        f"{exact_s * scale:10.0f} {1.0:9.4f}"
    )
    built: dict[str, faiss.Index] = {}
    for label, factory, params in candidates(n, dim):
        build_s = 0.0
        if factory not in built:
            built.clear()  # one index alive at a time: the memory column stays honest
            began = time.perf_counter()
            index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
            if not index.is_trained:
                nlist = faiss.extract_index_ivf(index).nlist
                train = x[rng.choice(n, size=min(n, TRAIN_POINTS_PER_CELL * nlist), replace=False)]
                index.train(train)
            index.add(x)
            build_s = time.perf_counter() - began
            built[factory] = index
        index = built[factory]
        set_params(index, params)
        if "RFlat" in factory:
            faiss.downcast_index(index).k_factor = 2.0
        began = time.perf_counter()
        scores, _ = index.search(q, k)
        query_s = time.perf_counter() - began
        mb = len(faiss.serialize_index(index)) / 2**20
        print(
            f"{label:32} {build_s:8.1f} {mb:7.0f} {query_s:8.2f} {query_s * scale:10.0f} "
            f"{recall_at(scores, exact_scores):9.4f}"
        )
    print(f"peak RSS {peak_rss_mb():.0f} MiB")


if __name__ == "__main__":
    main()
