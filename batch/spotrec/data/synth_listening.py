"""`spotrec data synth-listening`: synthetic listening sessions over any catalogue CSV.

    spotrec data synth-listening --data CATALOGUE.csv[.gz] --out DIR --sessions N

works on the synthetic catalogue, the real 89,741 tracks or a million-track one, and writes

* ``DIR/events.csv`` (``--events-format jsonl|parquet`` for the others): an events log with
  session_id (``synth-<n>``), track_id, event (play/like/save/skip), timestamp (ISO 8601);
* ``DIR/mpd/mpd.slice.<a>-<b>.json``: the same sessions as Million Playlist Dataset slices of
  1,000 playlists (pid ``n``; skipped tracks left out, as a playlist holds what was kept);
* ``DIR/tastes.json``: the ground truth: each taste's genres, artists and tracks, and each
  session's taste (index n of both session ids), for tests.

``--formats`` picks events and/or mpd. `spotrec data synth` calls the same code to write
listening beside its catalogue. How the sessions are planted: data/listening/planted.py; the
files' writers: data/synth_listening_files.py.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from spotrec.data.synth_listening_files import (
    EVENT_FORMATS,
    TRUTH_FILE,
    atomic_write,
    ground_truth,
    write_events,
    write_mpd_slices,
)

HELP = "write synthetic listening (events log + MPD slices + planted tastes) over a catalogue"
DEFAULT_SESSIONS = 2_000


def write_synthetic_listening(
    tracks,
    out_dir: str | os.PathLike,
    *,
    n_sessions: int = DEFAULT_SESSIONS,
    seed: int = 0,
    formats: tuple[str, ...] = ("events", "mpd"),
    events_format: str = "csv",
) -> dict:
    """Plant and write the sessions for the catalogue ``tracks``; returns the ground truth."""
    from spotrec.data.listening.planted import events_log, generate_sessions
    from spotrec.errors import SpotrecError

    if n_sessions < 1:
        raise SpotrecError(f"--sessions must be at least 1 (got {n_sessions})")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    planted = generate_sessions(tracks, n_sessions, seed)
    # also draws the skips that the MPD playlists leave out
    events = events_log(tracks, planted, frame="events" in formats)
    if events is not None:
        write_events(events, out_dir, events_format)
        del events
    if "mpd" in formats:
        write_mpd_slices(tracks, planted, out_dir)
    truth = ground_truth(tracks, planted, seed)
    atomic_write(out_dir / TRUTH_FILE, lambda p: p.write_text(json.dumps(truth), "utf-8"))
    return truth


def add_listening_arguments(parser: argparse.ArgumentParser, default_sessions: int) -> None:
    parser.add_argument(
        "--sessions",
        type=int,
        default=default_sessions,
        help="synthetic listening sessions (default: %(default)s)",
    )
    parser.add_argument(
        "--formats",
        default="events,mpd",
        help="listening formats to write: events and/or mpd (default: %(default)s)",
    )
    parser.add_argument("--events-format", choices=EVENT_FORMATS, default="csv")


def parse_formats(text: str) -> tuple[str, ...]:
    from spotrec.errors import SpotrecError

    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    if not formats or set(formats) - {"events", "mpd"}:
        raise SpotrecError(f"--formats takes events and/or mpd, got {text!r}")
    return formats


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="catalogue CSV (plain or .gz)")
    parser.add_argument("--out", type=Path, required=True, help="directory to write")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    add_listening_arguments(parser, DEFAULT_SESSIONS)


def run(args: argparse.Namespace) -> int:
    from spotrec.data.ingest import load_catalogue

    formats = parse_formats(args.formats)
    tracks = load_catalogue(args.data).tracks
    truth = write_synthetic_listening(
        tracks,
        args.out,
        n_sessions=args.sessions,
        seed=args.seed,
        formats=formats,
        events_format=args.events_format,
    )
    print(
        f"wrote {args.sessions:,} sessions over {truth['played_tracks']:,} of {len(tracks):,} "
        f"tracks ({len(truth['tastes'])} planted tastes) to {args.out}"
    )
    return 0


def listening_dir_for(csv_path: Path) -> Path:
    """Default listening directory beside a catalogue: data/x.csv.gz -> data/x-listening."""
    name = csv_path.name.removesuffix(".gz").removesuffix(".csv")
    return csv_path.with_name(f"{name}-listening")


def write_beside_catalogue(csv_path: Path, args: argparse.Namespace) -> Path | None:
    """`spotrec data synth`: listening over the catalogue just written (none with --sessions 0)."""
    from spotrec.data.ingest import load_catalogue

    if args.sessions <= 0:
        return None
    formats = parse_formats(args.formats)
    out = args.listening_out or listening_dir_for(Path(csv_path))
    tracks = load_catalogue(csv_path).tracks
    write_synthetic_listening(
        tracks,
        out,
        n_sessions=args.sessions,
        seed=args.seed,
        formats=formats,
        events_format=args.events_format,
    )
    return out
