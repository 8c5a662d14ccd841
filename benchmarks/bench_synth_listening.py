"""Synthetic listening benchmark: where `spotrec data synth-listening` spends its time.

    python benchmarks/bench_synth_listening.py --data CATALOGUE.csv[.gz] --out DIR
                                               [--sessions 20000] [--seed 0]

Runs the steps of write_synthetic_listening one by one over the catalogue (events log as
Parquet, MPD slices, ground truth) and prints each step's wall and CPU seconds (user + system
of this process, `time.process_time`), the sessions, events and MPD entries written, and the
peak RSS of the process (catalogue included). Wall seconds depend on the machine's load; CPU
seconds much less. Figures: docs/performance.md, "Session 4: synthetic listening at 1M".
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path


def _timed(label: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    print(
        f"{label:>24}: {time.perf_counter() - wall:7.1f} s wall, "
        f"{time.process_time() - cpu:7.1f} s CPU",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="catalogue CSV (plain or .gz)")
    parser.add_argument("--out", type=Path, required=True, help="directory to write")
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from spotrec.data.ingest import load_catalogue
    from spotrec.data.listening.planted import events_log, generate_sessions
    from spotrec.data.synth_listening_files import (
        TRUTH_FILE,
        atomic_write,
        ground_truth,
        write_events,
        write_mpd_slices,
    )

    tracks = _timed("catalogue (ingest)", lambda: load_catalogue(args.data).tracks)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.process_time()
    planted = _timed("plant sessions", lambda: generate_sessions(tracks, args.sessions, args.seed))
    events = _timed("events log frame", lambda: events_log(tracks, planted))
    _timed("write events.parquet", lambda: write_events(events, args.out, "parquet"))
    paths = _timed("write MPD slices", lambda: write_mpd_slices(tracks, planted, args.out))
    truth = _timed("ground truth", lambda: ground_truth(tracks, planted, args.seed))
    _timed(
        "write tastes.json",
        lambda: atomic_write(
            args.out / TRUTH_FILE, lambda p: p.write_text(json.dumps(truth), "utf-8")
        ),
    )
    print(f"{'listening, total':>24}: {time.process_time() - start:7.1f} s CPU")
    kept = int((~planted["skipped"]).sum())
    print(
        f"{len(tracks):,} tracks; {args.sessions:,} sessions over {truth['played_tracks']:,} "
        f"played tracks ({len(truth['tastes']):,} tastes); {len(events):,} events; "
        f"{kept:,} MPD entries in {len(paths)} slices"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
