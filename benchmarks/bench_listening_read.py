"""The build's `listening` stage alone: CPU seconds and peak RSS of reading listening data.

    python benchmarks/bench_listening_read.py --listening PATH [PATH ...]
        [--data ../shared/data/spotify_tracks.csv.gz] [--out /tmp/spotrec-bench-listening-read]
        [--match-names]

Loads the catalogue (not timed), then runs listening_build.prepare_listening exactly as
`spotrec build --interactions PATH` does: read + validate + map onto the catalogue
(load_listening), split by session and write listening/ (write_listening), the training
session-item weights. Prints wall and CPU seconds of the stage, the peak RSS of this process
(the catalogue included, as in the build's stage log), and a SHA-256 of every file the stage
wrote plus one of the weights table, so two versions of the readers can be compared byte for
byte. Session 5 target: the 100,000-session events log (8.87M events, 540 MB) in <= ~15 CPU s.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/spotify_tracks.csv.gz"
    )
    parser.add_argument("--listening", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/spotrec-bench-listening-read"))
    parser.add_argument("--match-names", action="store_true")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found", file=sys.stderr)
        return 0
    import pandas as pd

    from spotrec import schema
    from spotrec.data.ingest import load_catalogue
    from spotrec.listening_build import prepare_listening
    from spotrec.pipeline import BuildConfig
    from spotrec.stages import cpu_seconds, peak_rss_mb

    tracks = load_catalogue(args.data).tracks
    rss_catalogue = peak_rss_mb()
    config = BuildConfig(
        out=args.out,
        data=args.data,
        interactions=tuple(args.listening),
        match_names=args.match_names,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    wall, cpu = time.perf_counter(), cpu_seconds()
    weights, stats = prepare_listening(config, tracks)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    print(
        f"rows read {stats['rows_read']:,}; rejected {stats['rows_rejected']:,}; events kept "
        f"{stats['events_kept']:,}; sessions {stats['sessions']:,}; out of catalogue "
        f"{stats['out_of_catalogue']:,}; training (session, track) pairs {len(weights):,}"
    )
    print(f"listening stage: {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"peak RSS: {peak_rss_mb():,.0f} MiB (after the catalogue alone: {rss_catalogue:,.0f})")
    for name in (
        schema.LISTENING_TRAIN_FILE,
        schema.LISTENING_HELDOUT_FILE,
        schema.LISTENING_REJECTS_FILE,
        schema.LISTENING_STATS_FILE,
    ):
        print(f"sha256 {name}: {_digest(args.out / name)}")
    hashed = pd.util.hash_pandas_object(weights, index=True).to_numpy().tobytes()
    print(f"sha256 weights: {hashlib.sha256(hashed).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
