"""Finish-stage benchmark: re-run a finished build's finish stage (merge, blend, colistening,
evaluate; no store) on a copy of it, print each stage's wall and CPU seconds and the peak RSS,
and check the outputs are the same as the original build's.

    python benchmarks/bench_finish.py BUILD_DIR [--work /tmp/NAME] [--every 5]

BUILD_DIR is read only: its inputs (tracks, listening, models, embeddings, the content models'
neighbours) are copied to --work, so the stages run from build-state.json as `spotrec build
--stage finish` would. Then every neighbours/<model>.parquet the stage writes is compared with
BUILD_DIR's (same rows, ranks, neighbours; scores to 1e-6) and the manifest's ``evaluation``
figures must agree to 4 decimals. A thread prints RSS / peak every ``--every`` seconds; take the
stack at a peak with `py-spy dump --pid PID` (docs/performance.md, Session 5).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from spotrec import schema
from spotrec.build_state import embedding_models, read_state
from spotrec.list_stages import finish_stage
from spotrec.stages import StageTimer, peak_rss_mb


def current_rss_mib() -> int:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) // 1024


def copy_inputs(build: Path, work: Path, models: list[str]) -> None:
    """The finish stage's inputs only: the lists it writes itself are left out."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("build-state.json", schema.TRACKS_FILE):
        shutil.copy2(build / name, work / name)
    for name in (schema.LISTENING_DIR, schema.MODELS_DIR, schema.EMBEDDINGS_DIR):
        if (build / name).exists():
            shutil.copytree(build / name, work / name)
    (work / schema.NEIGHBOURS_DIR).mkdir()
    for name in embedding_models(models):
        source = build / schema.NEIGHBOURS_DIR / f"{name}.parquet"
        shutil.copy2(source, work / schema.NEIGHBOURS_DIR / source.name)


def same_figures(a, b, path: str = "") -> list[str]:
    """Paths where two evaluation trees differ (numbers compared at 4 decimals)."""
    if isinstance(a, dict) and isinstance(b, dict):
        diffs = [f"{path}/{k}: only one side" for k in set(a) ^ set(b)]
        for key in set(a) & set(b):
            diffs += same_figures(a[key], b[key], f"{path}/{key}")
        return diffs
    if isinstance(a, float | int) and isinstance(b, float | int):
        if math.isnan(a) and math.isnan(b):
            return []
        return [] if round(a, 4) == round(b, 4) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def same_lists(a: Path, b: Path) -> str:
    """One column at a time: two whole 200-deep files as frames were ~3 GB."""
    for column in (schema.NB_TRACK_ID, schema.NB_RANK, schema.NB_NEIGHBOUR_ID, schema.NB_SCORE):
        left = pq.read_table(a, columns=[column])[column]
        right = pq.read_table(b, columns=[column])[column]
        if len(left) != len(right):
            return f"{len(left)} rows != {len(right)}"
        if column != schema.NB_SCORE:
            if not left.equals(right):
                return f"column {column} differs"
            continue
        gap = np.abs(left.to_numpy() - right.to_numpy()).max() if len(left) else 0.0
        if gap > 1e-6:
            return f"scores differ by up to {gap}"
    return "same"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spotrec-bench-finish"))
    parser.add_argument("--every", type=float, default=5.0, help="seconds between RSS samples")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    state = read_state(args.build)
    original = json.loads((args.build / "manifest.json").read_text())
    models = state["models"]
    copy_inputs(args.build, args.work, models)

    def sample() -> None:
        while True:
            print(f"{time.strftime('%H:%M:%S')} RSS {current_rss_mib()} MiB", flush=True)
            time.sleep(args.every)

    threading.Thread(target=sample, daemon=True).start()
    timer = StageTimer()
    manifest = finish_stage(
        args.work,
        models,
        original["top_n"],
        timer,
        write_store=False,
        listening_top_n=original["listening_top_n"],
    )
    print(f"\nfinish stage of {args.build} (no store):")
    for stage in timer.seconds:
        print(f"  {stage:<14}{timer.seconds[stage]:>8.1f} s {timer.cpu[stage]:>8.1f} CPU s")
    print(f"  peak RSS {peak_rss_mb():,.0f} MiB")
    for path in sorted((args.work / schema.NEIGHBOURS_DIR).glob("*.parquet")):
        print(f"  {path.name}: {same_lists(path, args.build / schema.NEIGHBOURS_DIR / path.name)}")
    diffs = same_figures(original["evaluation"], manifest["evaluation"])
    print(f"  evaluation: {'same to 4 decimals' if not diffs else diffs[:10]}")
    print(f"  default model: {manifest['default_model']} (was {original['default_model']})")


if __name__ == "__main__":
    main()
