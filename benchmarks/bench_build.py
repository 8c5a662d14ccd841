"""Build benchmark: wall time by stage and peak RSS of `spotrec build` on the real catalogue.

    python benchmarks/bench_build.py [--data ../shared/data/spotify_tracks.csv.gz]
                                     [--models cosine] [--out /tmp/spotrec-bench-build]
                                     [--sessions N]

With ``--sessions N`` it first writes N synthetic MPD-sized listening sessions with planted
tastes over the catalogue (data/listening/planted.py, an events log; cached under /tmp, not
timed) and builds with ``--interactions`` (add colistening,hybrid to --models).

Runs the build in a fresh subprocess (so peak RSS is the build's own) and prints the figures
the manifest recorded. Targets: cosine-only build <= 60 s, all four models <= 5 min, peak RSS
<= 3 GB (cosine) / 4 GB (all).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def listening_arguments(data: Path, sessions: int) -> list[str]:
    """--interactions with a cached synthetic events log of ``sessions`` sessions."""
    if sessions <= 0:
        return []
    from spotrec.data.ingest import load_catalogue
    from spotrec.data.synth_listening import write_synthetic_listening

    directory = Path(f"/tmp/spotrec-bench-listening-{sessions}")
    events = directory / "events.csv"
    if not events.is_file():
        print(f"writing {sessions:,} synthetic sessions to {directory} (not timed)", flush=True)
        tracks = load_catalogue(data).tracks
        write_synthetic_listening(tracks, directory, n_sessions=sessions, formats=("events",))
    return ["--interactions", str(events)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/spotify_tracks.csv.gz"
    )
    parser.add_argument("--models", default="cosine")
    parser.add_argument("--out", type=Path, default=Path("/tmp/spotrec-bench-build"))
    parser.add_argument("--sessions", type=int, default=0, help="synthetic listening sessions")
    parser.add_argument("--extra", nargs=argparse.REMAINDER, default=[], help="more build args")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"skipped: {args.data} not found", file=sys.stderr)
        return 0
    command = [
        sys.executable,
        "-m",
        "spotrec.cli",
        "build",
        "--data",
        str(args.data),
        "--out",
        str(args.out),
        "--models",
        args.models,
        *listening_arguments(args.data, args.sessions),
        *args.extra,
    ]
    begin = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - begin
    manifest = json.loads((args.out / "manifest.json").read_text())
    print(f"\nmodels: {args.models}   tracks: {manifest['counts']['tracks']:,}")
    print(f"{'stage':<24}{'seconds':>10}")
    for stage, seconds in manifest["timings_s"].items():
        print(f"{stage:<24}{seconds:>10.1f}")
    print(f"{'total (wall, incl. start-up)':<24}{wall:>10.1f}")
    print(f"peak RSS: {manifest['peak_rss_mb']:.0f} MiB")
    if manifest.get("listening"):
        counts = ("train_sessions", "heldout_sessions", "events_kept", "out_of_catalogue")
        print("listening: " + ", ".join(f"{k}={manifest['listening'].get(k)}" for k in counts))
    for model, metrics in manifest["evaluation"].items():
        print(
            f"{model:<12} precision@10={metrics['genre_precision']:.3f} mrr={metrics['mrr']:.3f} "
            f"same_artist={metrics['same_artist']:.3f} coverage={metrics['coverage']:.3f} "
            f"variants={metrics['variant_rate']:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
