"""Compare two finished builds of the same data and seed: lists, held-out figures, stage costs.

    python scripts/compare_builds.py OLD_BUILD NEW_BUILD

Per model: how many list slots name another track (and the largest score change), the held-out
listening NDCG@100 / recall@100 (all cases and cold), then each stage's wall and CPU seconds.
docs/performance.md, "Session 5: transformer fit", has a run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema


def list_changes(old: Path, new: Path, name: str) -> str:
    a = pd.read_parquet(old / schema.NEIGHBOURS_DIR / f"{name}.parquet")
    b = pd.read_parquet(new / schema.NEIGHBOURS_DIR / f"{name}.parquet")
    if len(a) != len(b):
        return f"{len(a)} -> {len(b)} slots"
    keys = ["track_id", "rank", "neighbour_id"]
    changed = (a[keys].to_numpy() != b[keys].to_numpy()).any(axis=1)
    score = float(np.abs(a["score"].to_numpy() - b["score"].to_numpy()).max())
    seeds = a.loc[changed, "track_id"].nunique()
    return (
        f"{int(changed.sum())} of {len(a)} slots changed ({seeds} seeds), "
        f"max score change {score:.2g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    args = parser.parse_args()
    old, new = (json.loads((d / schema.MANIFEST_FILE).read_text()) for d in (args.old, args.new))
    for name in new["models"]:
        print(f"{name:12s} {list_changes(args.old, args.new, name)}")
        before, after = (
            old["evaluation"][name].get("listening"),
            new["evaluation"][name].get("listening"),
        )
        if before and after:
            print(
                f"{'':12s} NDCG@100 {before['ndcg']:.4f} -> {after['ndcg']:.4f}, "
                f"recall@100 {before['recall']:.4f} -> {after['recall']:.4f}, "
                f"cold NDCG {before['cold']['ndcg']:.4f} -> {after['cold']['ndcg']:.4f}, "
                f"cold recall {before['cold']['recall']:.4f} -> {after['cold']['recall']:.4f} "
                f"({after['cases']} cases, {after['cold']['cases']} cold)"
            )
    print(f"default model: {old['default_model']} -> {new['default_model']}")
    print(f"{'stage':24s}{'old s':>9s}{'old CPU':>9s}{'new s':>9s}{'new CPU':>9s}")
    for stage, seconds in new["timings_s"].items():
        row = (old["timings_s"].get(stage, np.nan), old["cpu_s"].get(stage, np.nan))
        print(f"{stage:24s}{row[0]:9.1f}{row[1]:9.1f}{seconds:9.1f}{new['cpu_s'][stage]:9.1f}")
    print(
        f"CPU s, all stages: {sum(old['cpu_s'].values()):.1f} -> {sum(new['cpu_s'].values()):.1f}"
    )


if __name__ == "__main__":
    main()
