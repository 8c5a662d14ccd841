"""Held-out listening's merge of the seeds' lists: the API's per-session Python fusion
(listening.fuse_seed_lists) against the batched numpy one (seed_fusion.fuse_many), on one
model of a finished build, same cases, checking the lists are equal.

    python benchmarks/bench_heldout_fusion.py BUILD_DIR [--model hybrid] [--cases 1000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.evaluation import listening as le
from spotrec.evaluation.seed_fusion import fuse_many
from spotrec.neighbour_files import read_index_matrix
from spotrec.stages import cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--model", default="hybrid")
    parser.add_argument("--cases", type=int, default=1000)
    args = parser.parse_args()
    tracks = pd.read_parquet(args.build / schema.TRACKS_FILE)
    ids = tracks[schema.TRACK_ID].to_numpy()
    songs = pd.factorize(tracks[schema.SONG_ID])[0].astype(np.int64)
    path = args.build / schema.NEIGHBOURS_DIR / f"{args.model}.parquet"
    width = int(pd.read_parquet(path, columns=[schema.NB_RANK])[schema.NB_RANK].max())
    indices = read_index_matrix(path, ids, width)[0]
    positions = np.where(indices < 0, len(ids), indices)
    heldout = pd.read_parquet(args.build / schema.LISTENING_HELDOUT_FILE)
    cases = le.heldout_cases(heldout, ids, songs, max_cases=args.cases, seed=0)
    recommend = le.neighbour_recommender(positions, songs)
    begin = cpu_seconds()
    slow = [recommend(seeds) for seeds in cases.seeds]
    python_s = cpu_seconds() - begin
    begin = cpu_seconds()
    fast = fuse_many(positions, cases.seeds, songs, le.K)
    numpy_s = cpu_seconds() - begin
    same = all(np.array_equal(a, b) for a, b in zip(slow, fast, strict=True))
    print(
        f"{args.model} (depth {width}), {len(cases)} held-out sessions: per-session Python "
        f"{python_s:.2f} CPU s, batched numpy {numpy_s:.2f} CPU s "
        f"({python_s / max(numpy_s, 1e-9):.0f}x); identical lists: {same}"
    )


if __name__ == "__main__":
    main()
