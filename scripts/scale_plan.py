"""The 10M-track plan of docs/scale.md, derived from a measured build, never typed by hand.

    python scripts/scale_plan.py BUILD/manifest.json --publish-items-per-s RATE \\
        [--target 10000000] [--shards 8,32] [--store BUILD/store.sqlite] \\
        [--neighbours-cpu cosine=SECONDS]   # staged builds: the manifest lacks that stage

Reads the build's manifest.json (per-stage CPU seconds, peak RSS, the neighbour-search report:
index, nlist, nprobe, recall, its CPU split; Parquet sizes) and, when present, the build's
store.sqlite (items and bytes per item kind: what a release writes to DynamoDB), plus the publish
rate to a local moto server measured on a slice (`benchmarks/bench_publish.py --tracks 10000
--top-n 50` prints "publish: N items in S s = R items/s"). Prints every figure of the plan with
the scaling rule that produced it and the measured figure it came from.

CPU seconds (getrusage, all threads) are used, not wall seconds: they do not depend on the other
jobs sharing the cores. Prices are USD, us-east-1, on-demand, each named with its source and
the date it was read (PRICES).
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

# (USD, source and date read). Read 2026-11-30 through the search tool, not AWS's live pages.
PRICES = {
    "dynamodb_per_million_wru": (
        0.625,
        "DynamoDB on-demand writes, aws.amazon.com/dynamodb/pricing/on-demand as quoted by "
        "airbyte.com 2025-07-21 (after the 2024-11-01 cut); read 2026-11-30",
    ),
    "fargate_per_vcpu_hour": (0.04048, "Fargate Linux/x86, vantage.sh + wring.co, March 2026"),
    "fargate_per_gb_hour": (0.004445, "Fargate Linux/x86, vantage.sh + wring.co, March 2026"),
    "s3_per_gb_month": (0.023, "S3 Standard first 50 TB, AWS list price; assumed, not re-read"),
}
ITEM_OVERHEAD_BYTES = 100  # attribute names + run_id per DynamoDB item (estimate, bench_scale.py)
SERIAL_STAGES = ("ingest", "fit:", "merge", "evaluate", "store", "blend", "colistening")
CELLS_PER_SQRT_N = 4  # spotrec.ann: nlist = 4 sqrt(n)


@dataclass(frozen=True)
class Figure:
    what: str
    value: float
    unit: str
    rule: str  # how the measured figure was scaled
    source: str  # the measured figure it came from


def store_kinds(store: Path) -> dict[str, tuple[int, int, int]]:
    """Per item kind (logical key prefix): (items, bytes, WRU = ceil((bytes + overhead) / 1 KB))."""
    query = """SELECT substr(pk, instr(pk, '#') + 1, 1), count(*), sum(length(pk) + length(body)),
               sum((length(pk) + length(body) + ?) / 1024 + 1)
               FROM items WHERE pk LIKE '%#%' GROUP BY 1"""
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        return {k: (c, b, w) for k, c, b, w in db.execute(query, (ITEM_OVERHEAD_BYTES,))}


def _serial(stage: str) -> bool:
    return any(stage == s or (s.endswith(":") and stage.startswith(s)) for s in SERIAL_STAGES)


def plan(
    manifest: dict,
    *,
    target: int,
    shards: list[int],
    publish_items_per_s: float,
    kinds: dict[str, tuple[int, int, int]] | None = None,
    task_vcpus: int = 2,
    task_gb: int = 16,
) -> list[Figure]:
    n = manifest["counts"]["tracks"]
    grow = target / n
    cpu = manifest["cpu_s"]
    out: list[Figure] = []
    lin = f"linear: x {grow:g}"
    n15 = f"n^1.5: x {grow**1.5:.1f}"

    serial = 0.0
    for stage, seconds in cpu.items():
        if _serial(stage):
            serial += seconds * grow
            out.append(
                Figure(f"{stage} CPU", seconds * grow, "CPU s", lin, f"{seconds:,.1f} CPU s")
            )
    search_total = index_total = recall_total = 0.0
    for model, report in manifest.get("neighbour_search", {}).items():
        stage = cpu.get(f"neighbours:{model}")
        if stage is None:  # a staged build: the neighbours ran in another process
            raise SystemExit(
                f"no CPU seconds for neighbours:{model} in the manifest: build in one process, "
                f"or pass --neighbours-cpu {model}=SECONDS (its log's 'stage neighbours:{model}')"
            )
        index = report.get("index_build_cpu_s", 0.0)
        recall = report.get("recall_cpu_s", 0.0)
        search = stage - index - recall
        # IVF-Flat, nlist = 4 sqrt(n), nprobe fixed: a query scans nprobe n / nlist + nlist
        # ~ sqrt(n) vectors, so n queries cost n^1.5; if recall needed the same SHARE of cells
        # probed, n^2 (the upper bound). Index: k-means on a fixed number of points per cell
        # (~n) plus assigning every row to a cell (n x nlist ~ n^1.5): at most n^1.5. The
        # recall check runs 1,000 queries exactly over the catalogue: linear.
        index_t, search_t, recall_t = index * grow**1.5, search * grow**1.5, recall * grow
        index_total, search_total, recall_total = (
            index_total + index_t,
            search_total + search_t,
            recall_total + recall_t,
        )
        name = f"neighbours:{model}"
        out += [
            Figure(f"{name} index build, per shard", index_t, "CPU s", n15, f"{index:,.1f} CPU s"),
            Figure(
                f"{name} recall check, per shard", recall_t, "CPU s", lin, f"{recall:,.1f} CPU s"
            ),
            Figure(f"{name} search+filter+write", search_t, "CPU s", n15, f"{search:,.1f} CPU s"),
            Figure(
                f"{name} search if recall needs the same share of cells",
                search * grow**2,
                "CPU s",
                f"n^2: x {grow**2:.0f}",
                f"{search:,.1f} CPU s",
            ),
            Figure(
                f"{name} nlist at target",
                round(CELLS_PER_SQRT_N * math.sqrt(target)),
                "cells",
                "4 sqrt(n)",
                f"{report.get('nlist')} (nprobe {report.get('nprobe')}, recall@10 "
                f"{report.get('recall_at_10')})",
            ),
            Figure(
                f"{name} shard memory (vectors + IVF copy)",
                2 * target * report.get("dim", 0) * 4 / 1e9,
                "GB",
                "2 x n x dim x 4 B",
                f"dim {report.get('dim')}",
            ),
        ]
    peak = manifest.get("peak_rss_mb", 0.0)
    out.append(
        Figure("peak RSS of one build process", peak * grow / 1024, "GiB", lin, f"{peak:,.0f} MiB")
    )
    task_usd_h = task_vcpus * PRICES["fargate_per_vcpu_hour"][0]
    task_usd_h += task_gb * PRICES["fargate_per_gb_hour"][0]
    for count in shards:
        per_shard = index_total + recall_total + search_total / count
        vcpu_h = (search_total + count * (index_total + recall_total)) / 3600
        wall = per_shard / task_vcpus  # both vCPUs of a task busy (FAISS OpenMP threads)
        rule = f"search / {count} + index + recall per shard, on {task_vcpus} vCPUs"
        out += [
            Figure(f"{count} shards: vCPU-hours", vcpu_h, "vCPU-h", "sum of shards", "above"),
            Figure(f"{count} shards: neighbour wall", wall / 60, "min", rule, "above"),
            Figure(
                f"{count} shards: Fargate cost ({task_vcpus} vCPU / {task_gb} GB tasks)",
                vcpu_h / task_vcpus * task_usd_h,
                "USD",
                "task-hours x task price",
                "PRICES",
            ),
            Figure(
                f"{count} shards: build wall (serial stages + neighbours)",
                (serial + wall) / 60,
                "min",
                "serial stages single-threaded (wall = CPU) + neighbour wall",
                "above",
            ),
        ]
    parquet = sum(f["bytes"] for f in manifest.get("files", {}).values())
    s3_gb = parquet * grow / 1e9
    out += [
        Figure("S3 bytes per release (Parquet)", s3_gb, "GB", lin, f"{parquet / 1e6:,.1f} MB"),
        Figure(
            "S3 storage per release",
            s3_gb * PRICES["s3_per_gb_month"][0],
            "USD/month",
            "GB x price",
            "PRICES",
        ),
    ]
    if kinds:
        items = sum(c for c, _, _ in kinds.values())
        wru = sum(w for _, _, w in kinds.values())
        items_t, wru_t = items * grow, wru * grow
        out += [
            Figure("DynamoDB items per release", items_t, "items", lin, f"{items:,}"),
            Figure("DynamoDB write request units per release", wru_t, "WRU", lin, f"{wru:,}"),
            Figure(
                "DynamoDB on-demand write cost per release",
                wru_t / 1e6 * PRICES["dynamodb_per_million_wru"][0],
                "USD",
                "WRU x price",
                "PRICES",
            ),
            Figure(
                "publish wall, one writer at the moto rate",
                items_t / publish_items_per_s / 3600,
                "h",
                "items / measured rate (linear in items)",
                f"{publish_items_per_s:,.0f} items/s on a moto slice",
            ),
        ]
        out += [
            Figure(
                f"publish wall, {count} writers (one per shard)",
                items_t / (count * publish_items_per_s) / 3600,
                "h",
                "items / (writers x measured rate): assumes the rate scales with writers",
                f"{publish_items_per_s:,.0f} items/s on a moto slice",
            )
            for count in shards
        ]
    return out


def render(figures: list[Figure], manifest: dict, target: int) -> str:
    n = manifest["counts"]["tracks"]
    lines = [
        f"measured: {n:,} tracks, run {manifest.get('run_id')}, models {manifest.get('models')};"
        f" plan for {target:,} tracks",
        "",
        "| figure | at target | rule | measured |",
        "| --- | ---: | --- | ---: |",
    ]
    for f in figures:
        value = f"{f.value:,.2f}" if f.value < 100 else f"{f.value:,.0f}"
        lines.append(f"| {f.what} | {value} {f.unit} | {f.rule} | {f.source} |")
    lines += ["", "prices:"] + [f"  {k}: ${v} ({src})" for k, (v, src) in PRICES.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--publish-items-per-s", type=float, required=True)
    parser.add_argument("--target", type=int, default=10_000_000)
    parser.add_argument("--shards", default="8,32")
    parser.add_argument("--store", type=Path, help="default: store.sqlite beside the manifest")
    parser.add_argument(
        "--neighbours-cpu",
        action="append",
        default=[],
        metavar="MODEL=SECONDS",
        help="a staged build's neighbour-stage CPU seconds (not in its manifest)",
    )
    args = parser.parse_args()
    manifest = json.loads(args.manifest.read_text())
    for given in args.neighbours_cpu:
        model, seconds = given.split("=")
        manifest.setdefault("cpu_s", {})[f"neighbours:{model}"] = float(seconds)
    store = args.store or args.manifest.parent / "store.sqlite"
    kinds = store_kinds(store) if store.is_file() else None
    shards = [int(c) for c in args.shards.split(",")]
    figures = plan(
        manifest,
        target=args.target,
        shards=shards,
        publish_items_per_s=args.publish_items_per_s,
        kinds=kinds,
    )
    print(render(figures, manifest, args.target))


if __name__ == "__main__":
    main()
