"""Listening-data benchmark: read, weight and split synthetic sessions over the real catalogue.

    python benchmarks/bench_listening.py --listening DIR [--match-names]
                                         [--data ../shared/data/spotify_tracks.csv.gz]

DIR is any listening path (MPD slices, events logs), e.g. from
`spotrec data synth-listening --data CSV --out DIR --sessions 100000 --formats mpd`. Prints the
wall and CPU seconds of load_listening, session_item_weights and split_sessions, the rows per
second, and the peak RSS of this process (catalogue included). Target: 100,000 MPD-sized
sessions read in well under a minute of CPU and < 4 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _timed(label: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    print(
        f"{label:>22}: {time.perf_counter() - wall:7.1f} s wall, "
        f"{time.process_time() - cpu:7.1f} s CPU"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/spotify_tracks.csv.gz"
    )
    parser.add_argument("--listening", type=Path, required=True)
    parser.add_argument("--match-names", action="store_true")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found", file=sys.stderr)
        return 0
    from spotrec.data.ingest import load_catalogue
    from spotrec.data.listening import load_listening, session_item_weights, split_sessions

    tracks = _timed("catalogue", lambda: load_catalogue(args.data).tracks)
    rss_catalogue = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = _timed(
        "load_listening",
        lambda: load_listening(args.listening, tracks, match_names=args.match_names),
    )
    weights = _timed("session_item_weights", lambda: session_item_weights(result.events))
    train, heldout = _timed("split_sessions", lambda: split_sessions(result.events))
    stats = result.stats
    print(
        f"rows read {stats['rows_read']:,}; events kept {stats['events_kept']:,}; sessions "
        f"{stats['sessions']:,}; (session, track) pairs {len(weights):,}; train/held-out "
        f"events {len(train):,}/{len(heldout):,}"
    )
    print(f"events table in memory: {result.events.memory_usage(deep=True).sum() / 2**20:,.0f} MB")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB (after the catalogue alone: {rss_catalogue:,.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
