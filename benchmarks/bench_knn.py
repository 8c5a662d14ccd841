"""kNN time next to its compute floor, in the same run, on the real catalogue.

The floor is a plain float32 GEMM of the same shape (queries x catalogue x dims) done with numpy
in the same query batches: exact search cannot beat computing every inner product once. The
kNN time is ``neighbours.exact_top_n`` end to end (FAISS search, variant filtering, re-queries).
Target: kNN <= 3x GEMM.

It then runs the approximate search the build uses past --ann-threshold (spotrec.ann, IVF-Flat)
on the same catalogue and prints its time next to exact search's, and its recall@10 against the
exact lists over EVERY query (not just the build's 1000-query sample, also printed).

    /work/venv/bin/python benchmarks/bench_knn.py [--data PATH] [--top-n 50] [--repeats 1]

The data defaults to $SPOTREC_DATA, else ../shared/data/spotify_tracks.csv.gz.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from spotrec import schema
from spotrec.ann import SearchSettings, recall_at
from spotrec.data.ingest import load_catalogue
from spotrec.models.cosine import CosineModel
from spotrec.neighbours import NeighbourSearch, available_cores, exact_top_n

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(
    os.environ.get("SPOTREC_DATA", REPO.parent / "shared" / "data" / "spotify_tracks.csv.gz")
)


def gemm_floor(vectors: np.ndarray, batch_size: int) -> float:
    """Seconds for queries x catalogue^T in the same batches, into one reused output buffer."""
    catalogue_t = np.ascontiguousarray(vectors.T)
    out = np.empty((batch_size, len(vectors)), dtype=np.float32)
    began = time.perf_counter()
    for lo in range(0, len(vectors), batch_size):
        q = vectors[lo : lo + batch_size]
        np.matmul(q, catalogue_t, out=out[: len(q)])
    return time.perf_counter() - began


CLEAN_GEMM = """
import sys, time, numpy as np
n, dim, batch = map(int, sys.argv[1:4])
rng = np.random.default_rng(0)
vectors = rng.standard_normal((n, dim), dtype=np.float32)
catalogue_t = np.ascontiguousarray(vectors.T)
out = np.empty((batch, n), dtype=np.float32)
began = time.perf_counter()
for lo in range(0, n, batch):
    q = vectors[lo : lo + batch]
    np.matmul(q, catalogue_t, out=out[: len(q)])
print(time.perf_counter() - began)
"""


def gemm_floor_clean_env(n: int, dim: int, batch_size: int) -> float:
    """The same GEMM in a subprocess without the OPENBLAS_CORETYPE/L2_SIZE overrides this
    machine sets for old OpenBLAS builds (faiss-cpu bundles one): numpy's current OpenBLAS
    picks its own, faster kernel without them, so this is the stricter floor."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS_")}
    done = subprocess.run(
        [sys.executable, "-c", CLEAN_GEMM, str(n), str(dim), str(batch_size)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--top-n", type=int, default=schema.DEFAULT_TOP_N)
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--nprobe", type=int, default=SearchSettings().nprobe)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    began = time.perf_counter()
    tracks = load_catalogue(args.data).tracks
    loaded = time.perf_counter()
    embeddings = CosineModel().fit(tracks).embed(tracks)
    embedded = time.perf_counter()
    n, dim = embeddings.shape
    vectors = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    song_ids = tracks[schema.SONG_ID].to_numpy()
    print(f"catalogue {n} tracks x {dim} dims, top_n {args.top_n}, {available_cores()} cores")
    print(f"load {loaded - began:.1f}s, cosine fit+embed {embedded - loaded:.1f}s")

    for repeat in range(args.repeats):
        gemm_s = gemm_floor(vectors, args.batch_size)
        t0 = time.perf_counter()
        _, exact_scores = exact_top_n(
            embeddings, song_ids, args.top_n, batch_size=args.batch_size, progress=False
        )
        knn_s = time.perf_counter() - t0
        flops = 2.0 * n * n * dim
        clean_s = gemm_floor_clean_env(n, dim, args.batch_size)
        print(
            f"[{repeat + 1}] GEMM floor {gemm_s:.2f}s ({flops / gemm_s / 1e9:.0f} GFLOP/s), "
            f"exact_top_n {knn_s:.2f}s, ratio {knn_s / gemm_s:.2f}x (target <= 3x)"
        )
        print(
            f"    GEMM floor without OPENBLAS_* overrides {clean_s:.2f}s "
            f"({flops / clean_s / 1e9:.0f} GFLOP/s): ratio {knn_s / clean_s:.2f}x"
        )
        t0 = time.perf_counter()
        settings = SearchSettings(ann_threshold=0, nprobe=args.nprobe)
        search = NeighbourSearch(embeddings, song_ids, args.top_n, settings=settings)
        _, ann_scores = search.collect(np.arange(n), batch_size=args.batch_size)
        ann_s = time.perf_counter() - t0
        sampled = search.measure_recall(0, n)
        print(
            f"    approximate {search.info['index']} nprobe {search.info['nprobe']}: "
            f"{ann_s:.2f}s (index {search.info['index_build_s']:.1f}s), "
            f"{knn_s / ann_s:.1f}x faster than exact; recall@10 over all {n} queries "
            f"{recall_at(ann_scores, exact_scores):.4f}, build's sampled figure "
            f"{sampled['recall_at_10']:.4f} ({sampled['recall_sample']} queries)"
        )


if __name__ == "__main__":
    main()
