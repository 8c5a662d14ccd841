"""Which approximate FAISS index for the neighbour step: IVF-Flat, IVF-PQ, HNSW, side by side.

Same embeddings, same run, same threads. For each index: build time (train + add), index bytes
(``faiss.serialize_index``, what the index holds in memory), the time for ``--queries`` queries
at the pipeline's k (top_n + 1 + margin = 101), that time extrapolated to every row of the
catalogue, and recall@10 against exact search on those queries (score-based, ties count, as in
spotrec.ann.recall_at; raw FAISS lists before variant filtering, identical for every index).

    nice -n 10 python benchmarks/bench_scale.py --embeddings BUILD/embeddings/cosine.npy \\
        [--rows 300000] [--queries 5000] [--top-n 50]

Without --embeddings it makes clustered Gaussian vectors (--rows x --dim).

``--plan BUILD_DIR [--target 10000000] [--shards 8,32]`` instead prints the plan for a larger
catalogue from a measured build (the CPU seconds of its neighbour stages, its neighbour-search
report, file sizes and store.sqlite item sizes): docs/scale.md is written from its output of
the 1M-track build.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import faiss
import numpy as np

from spotrec.ann import CELLS_PER_SQRT_N, TRAIN_POINTS_PER_CELL, recall_at
from spotrec.neighbours import available_cores
from spotrec.stages import peak_rss_mb


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


def neighbour_cpu(build: Path, model: str, manifest: dict) -> tuple[float, float]:
    """(index build CPU s, search + filter + write CPU s) of one model's neighbour stage, from
    the build's manifest (cpu_s, one process) or its neighbours log (``--stage neighbours`` run
    alone: ``neighbours.log`` beside the manifest, the stage's log lines)."""
    report = manifest["neighbour_search"][model]
    stage = manifest.get("cpu_s", {}).get(f"neighbours:{model}")
    log = build / "neighbours.log"
    if stage is None and log.is_file():
        for line in log.read_text().splitlines():
            if f"stage neighbours:{model}:" in line and "CPU s" in line:
                stage = float(line.split(" s, ")[1].split(" CPU s")[0])
    if stage is None:
        raise SystemExit(f"no CPU seconds for neighbours:{model} in {build}")
    index_cpu = report.get("index_build_cpu_s", 0.0)
    return index_cpu, stage - index_cpu - report.get("recall_cpu_s", 0.0)


def plan(build: Path, target: int, shards: list[int]) -> None:
    """Print the target catalogue's figures, every one scaled from this build's measurements:
    CPU seconds (load-independent: getrusage, all threads) of each model's neighbour stage,
    its search report (recall, nprobe), file sizes and store.sqlite item sizes."""
    manifest = json.loads((build / "manifest.json").read_text())
    n = manifest["counts"]["tracks"]
    grow = target / n
    print(f"measured build: {n:,} tracks, models {manifest['models']}; plan for {target:,}")
    total_search = total_index = 0.0
    for name, report in manifest.get("neighbour_search", {}).items():
        index_cpu, search_cpu = neighbour_cpu(build, name, manifest)
        # IVF-Flat, nlist = 4 sqrt(n), nprobe fixed: each query scans nprobe * n / nlist + nlist
        # = O(sqrt n) vectors, so the search grows as n^1.5; if recall needs the same SHARE of
        # cells probed (nprobe ~ sqrt n), as n^2. Index build: k-means on 64 points per cell
        # (~ n) plus assigning every row to a cell (n x nlist ~ n^1.5): at most n^1.5.
        fixed, same_share = search_cpu * grow**1.5, search_cpu * grow**2
        index_t = index_cpu * grow**1.5
        total_search += fixed
        total_index += index_t
        print(
            f"  {name}: {report.get('index')} nprobe {report.get('nprobe')}, recall@10 "
            f"{report.get('recall_at_10')}; measured CPU: index {index_cpu:,.0f} s, search + "
            f"filter + write {search_cpu:,.0f} s"
        )
        print(
            f"    at target: index {index_t / 3600:.2f} CPU-h per shard; search "
            f"{fixed / 3600:.1f} CPU-h (nprobe fixed) .. {same_share / 3600:.1f} CPU-h "
            f"(same share of cells)"
        )
        dim = report.get("dim", 130)
        print(f"    shard memory: vectors + IVF copy ~ {2 * target * dim * 4 / 1e9:.1f} GB")
    task_usd_h = 2 * FARGATE_USD_PER_VCPU_HOUR + 16 * FARGATE_USD_PER_GB_HOUR
    for count in shards:
        vcpu_h = (total_search + total_index * count) / 3600
        # a 2-vCPU task runs both threads: wall = CPU / 2 per task; models one after another
        wall = (total_index + total_search / count) / 2 / 60
        print(
            f"  {count} shards (2 vCPU / 16 GB Fargate tasks), all models, nprobe fixed: "
            f"{vcpu_h:.1f} vCPU-h, wall ~{wall:.0f} min, ${vcpu_h / 2 * task_usd_h:.2f}"
        )
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
    parser.add_argument("--shards", default="8,32", help="shard counts to plan, comma-separated")
    parser.add_argument("--embeddings", help="a build's embeddings/<model>.npy")
    parser.add_argument("--rows", type=int, default=300_000, help="catalogue rows (subsample)")
    parser.add_argument("--dim", type=int, default=64, help="dims of generated vectors")
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--top-n", type=int, default=50)
    args = parser.parse_args()
    if args.plan:
        plan(args.plan, args.target, [int(c) for c in args.shards.split(",")])
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
