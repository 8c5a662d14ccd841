"""CPU seconds and peak RSS of the build's ingest, fit:cosine and merge stages, one per process.

    python benchmarks/bench_ingest_stages.py ingest --data CSV [--save DIR]
    python benchmarks/bench_ingest_stages.py fit --tracks DIR/tracks.parquet [--save DIR]
    python benchmarks/bench_ingest_stages.py merge --build BUILD_DIR [--save DIR]

Each stage runs the code the build runs (data.ingest.load_catalogue; CosineModel fit + embed;
neighbour_files.read_index_matrix over neighbours/cosine.parquet) in a fresh process, so the
peak RSS printed is that stage's own. ``--save`` writes what the stage produced (tracks.parquet;
the embeddings; the index matrices) so two code versions can be compared with ``compare``:

    python benchmarks/bench_ingest_stages.py compare DIR_A DIR_B

which checks that tracks.parquet frames are equal and the .npy arrays are bit-identical.
Run it from a checkout with ``PYTHONPATH=$PWD/batch:$PWD/lambda`` to measure that checkout.
Figures: docs/performance.md, "Session 5: ingest, fit, merge at 1M".
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec.stages import cpu_seconds, peak_rss_mb


def _report(stage: str, started_cpu: float, rows: int) -> None:
    used = cpu_seconds() - started_cpu
    print(f"{stage}: {rows:,} rows, {used:.1f} CPU s, peak RSS {peak_rss_mb():.0f} MiB", flush=True)


def run_ingest(data: Path, save: Path | None) -> None:
    from spotrec.data.ingest import load_catalogue

    begin = cpu_seconds()
    result = load_catalogue(data)
    _report("ingest", begin, len(result.tracks))
    if save:
        save.mkdir(parents=True, exist_ok=True)
        result.tracks.to_parquet(save / "tracks.parquet", index=False)


def run_fit(tracks_path: Path, save: Path | None) -> None:
    from spotrec.models.cosine import CosineModel

    tracks = pd.read_parquet(tracks_path)
    # The build fits on the ingested frame, whose list cells are Python lists.
    for column in ("artists", "genres"):
        tracks[column] = [list(v) for v in tracks[column]]
    begin = cpu_seconds()
    embeddings = CosineModel().fit(tracks).embed(tracks)
    _report("fit:cosine", begin, len(tracks))
    if save:
        save.mkdir(parents=True, exist_ok=True)
        np.save(save / "cosine.npy", embeddings, allow_pickle=False)


def run_merge(build: Path, save: Path | None) -> None:
    from spotrec.neighbour_files import read_index_matrix

    track_ids = pd.read_parquet(build / "tracks.parquet", columns=["track_id"])["track_id"]
    track_ids = track_ids.to_numpy()
    begin = cpu_seconds()
    indices, scores = read_index_matrix(build / "neighbours" / "cosine.parquet", track_ids, 50)
    _report("merge (read_index_matrix)", begin, int((indices >= 0).sum()))
    if save:
        save.mkdir(parents=True, exist_ok=True)
        np.save(save / "indices.npy", indices, allow_pickle=False)
        np.save(save / "scores.npy", scores, allow_pickle=False)


def compare(a: Path, b: Path) -> int:
    failures = 0
    for path in sorted(a.iterdir()):
        other = b / path.name
        if not other.exists():
            continue
        if path.suffix == ".parquet":
            same = pd.read_parquet(path).equals(pd.read_parquet(other))
        else:
            x, y = np.load(path), np.load(other)
            same = x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
        print(f"{path.name}: {'identical' if same else 'DIFFERENT'}")
        failures += not same
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stage", choices=["ingest", "fit", "merge", "compare"])
    parser.add_argument("paths", nargs="*", type=Path, help="compare: two --save dirs")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--tracks", type=Path)
    parser.add_argument("--build", type=Path)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    if args.stage == "ingest":
        run_ingest(args.data, args.save)
    elif args.stage == "fit":
        run_fit(args.tracks, args.save)
    elif args.stage == "merge":
        run_merge(args.build, args.save)
    else:
        return 1 if compare(*args.paths) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
