"""Which approximate FAISS index for the neighbour step: IVF-Flat, IVF-PQ, HNSW, side by side.

Same embeddings, same run, same threads. For each index: build time (train + add), index bytes
(``faiss.serialize_index``, what the index holds in memory), the time for ``--queries`` queries
at the pipeline's k (top_n + 1 + margin = 101), that time extrapolated to every row of the
catalogue, and recall@10 against exact search on those queries (score-based, ties count, as in
spotrec.ann.recall_at; raw FAISS lists before variant filtering, identical for every index).

    nice -n 10 python benchmarks/bench_scale.py --embeddings BUILD/embeddings/cosine.npy \\
        [--rows 300000] [--queries 5000] [--top-n 50]

Without --embeddings it makes clustered Gaussian vectors (--rows x --dim).

``--plan BUILD_DIR [--target 10000000] [--shards 8]`` instead prints the plan for a larger
catalogue from a measured build (its manifest timings, neighbour-search report, file sizes and
store.sqlite item sizes): docs/scale.md is written from its output.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from pathlib import Path

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
    # PQ sub-quantizers: the divisor of dim nearest dim / 4 (26 x 5 dims for 130-d cosine).
    pq_m = min((m for m in range(1, dim + 1) if dim % m == 0), key=lambda m: abs(m - dim / 4))
    out = [(f"IVF-Flat nprobe={p}", f"IVF{nlist},Flat", {"nprobe": p}) for p in (8, 16, 24, 32)]
    out += [(f"HNSW32 efSearch={e}", "HNSW32,Flat", {"efSearch": e}) for e in (128, 256)]
    out += [(f"IVF-PQ{pq_m} nprobe=24", f"IVF{nlist},PQ{pq_m}", {"nprobe": 24})]
    out += [(f"IVF-PQ{pq_m}+refine nprobe=24", f"IVF{nlist},PQ{pq_m},RFlat", {"nprobe": 24})]
    return out


def set_params(index, params: dict) -> None:
    for name, value in params.items():
        faiss.ParameterSpace().set_index_parameter(index, name, value)


# Prices (USD, us-east-1, on-demand), named in docs/scale.md with their source and date.
WRU_USD_PER_MILLION = 0.625
S3_USD_PER_GB_MONTH = 0.023
S3_PUT_USD_PER_1000 = 0.005
FARGATE_USD_PER_VCPU_HOUR = 0.04048
FARGATE_USD_PER_GB_HOUR = 0.004445
ITEM_OVERHEAD_BYTES = 100  # attribute names + run_id attribute, per DynamoDB item (estimate)


def store_items(store: Path) -> dict[str, tuple[int, int, int]]:
    """Per item kind (the logical key prefix): (items, bytes, write request units)."""
    import sqlite3

    query = """SELECT substr(pk, instr(pk, '#') + 1, 1) AS kind, count(*),
               sum(length(pk) + length(body)),
               sum((length(pk) + length(body) + ?) / 1024 + 1)
               FROM items WHERE pk LIKE '%#%' GROUP BY kind"""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return {k: (c, b, w) for k, c, b, w in db.execute(query, (ITEM_OVERHEAD_BYTES,))}


def plan(build: Path, target: int, shards: int, exact_1m_s: float, ivf_ratio: float) -> None:
    """Print the target catalogue's figures. Compute comes from two measured quantities, not
    from this build's timings (which depend on the machine's load): exact search of 1M rows
    (``exact_1m_s``) and IVF-Flat's search time as a share of exact's at this build's size
    (``ivf_ratio``, bench_scale's in-run comparison). Storage comes from this build's files."""
    manifest = json.loads((build / "manifest.json").read_text())
    n = manifest["counts"]["tracks"]
    grow = target / n
    print(f"measured build: {n:,} tracks, models {manifest['models']}; plan for {target:,}")
    for name, report in manifest.get("neighbour_search", {}).items():
        dim, nprobe = report.get("dim", 130), report.get("nprobe", 24)

        # IVF-Flat (nlist = 4 sqrt(n)) scans nprobe * n / nlist + nlist vectors per query.
        def scanned(rows: int, probe: float) -> float:
            nlist = CELLS_PER_SQRT_N * math.sqrt(rows)
            return probe * rows / nlist + nlist

        efficiency = ivf_ratio / (scanned(n, nprobe) / n)  # IVF flop cost vs BLAS, measured
        exact_s = exact_1m_s * (target / 1e6) ** 2
        share = nprobe / (CELLS_PER_SQRT_N * math.sqrt(n))  # cells probed at the measured size
        fixed = exact_s * efficiency * scanned(target, nprobe) / target
        same_share = exact_s * efficiency * scanned(target, share * 4 * math.sqrt(target)) / target
        nlist_t = CELLS_PER_SQRT_N * math.sqrt(target)
        build_flop = TRAIN_POINTS_PER_CELL * nlist_t**2 * dim * 20 + target * nlist_t * dim * 2
        build_s = build_flop / 150e9  # the GEMM floor's ~150-300 GFLOP/s on 2 cores
        print(
            f"  {name}: recall@10 {report.get('recall_at_10')} at nprobe {nprobe}; IVF runs at "
            f"{efficiency:.1f}x exact's cost per scanned vector; exact at target "
            f"{exact_s / 3600:.0f} h on 2 cores"
        )
        for label, search_s in (("nprobe fixed", fixed), (f"{share:.1%} of cells", same_share)):
            vcpu_h = (search_s + build_s * shards) * 2 / 3600
            wall = (build_s + search_s / shards) / 60
            cost = vcpu_h / 2 * (2 * FARGATE_USD_PER_VCPU_HOUR + 16 * FARGATE_USD_PER_GB_HOUR)
            print(
                f"    {label}: search {search_s * 2 / 3600:.1f} vCPU-h; index {build_s / 60:.0f}"
                f" min per shard; {shards} shards: {vcpu_h:.1f} vCPU-h, wall {wall:.0f} min, "
                f"${cost:.2f} on 2 vCPU / 16 GB Fargate tasks"
            )
        print(f"    shard memory: vectors + IVF copy ~ {2 * target * dim * 4 / 1e9:.1f} GB")
    parquet = sum(f["bytes"] for f in manifest["files"].values())
    print(f"  Parquet {parquet / 1e6:.1f} MB -> {parquet * grow / 1e9:.2f} GB at target")
    print(f"  S3 storage per release ${parquet * grow / 1e9 * S3_USD_PER_GB_MONTH:.2f}/month")
    store = build / "store.sqlite"
    if store.is_file():
        kinds = store_items(store)
        items = sum(c for c, _, _ in kinds.values())
        wru = sum(w for _, _, w in kinds.values())
        print(f"  store {store.stat().st_size / 1e9:.2f} GB; {items:,} run items, {wru:,} WRU")
        for kind, (count, size, units) in sorted(kinds.items()):
            print(f"    {kind}#: {count:,} items, {size / count:,.0f} B each, {units:,} WRU")
        wru_t = wru * grow
        print(
            f"  DynamoDB at target: {items * grow / 1e6:.1f} M items, {wru_t / 1e6:.1f} M WRU "
            f"= ${wru_t / 1e6 * WRU_USD_PER_MILLION:.2f} per release (on-demand writes)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", type=Path, help="a measured build directory: print the plan")
    parser.add_argument("--target", type=int, default=10_000_000)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--exact-1m-seconds", type=float, default=37 * 60, help="issue 10")
    parser.add_argument("--ivf-vs-exact", type=float, default=0.34 / 1.35, help="measured")
    parser.add_argument("--embeddings", help="a build's embeddings/<model>.npy")
    parser.add_argument("--rows", type=int, default=300_000, help="catalogue rows (subsample)")
    parser.add_argument("--dim", type=int, default=64, help="dims of generated vectors")
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--top-n", type=int, default=50)
    args = parser.parse_args()
    if args.plan:
        plan(args.plan, args.target, args.shards, args.exact_1m_seconds, args.ivf_vs_exact)
        return
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
