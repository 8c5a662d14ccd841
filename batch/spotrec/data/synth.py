"""`spotrec data synth`: a realistic synthetic Spotify Tracks CSV, made from committed statistics,
and synthetic listening over it.

The output has the real file's exact format (an unnamed index column, schema.RAW_COLUMNS, one
row per (track, genre), genre blocks in order, pandas-style quoting and ``True``/``False``), so
it goes through the same ingest as the real file with zero rejects. Where things live:

* data/synth_catalogue.py draws the rows (genres, features, artists, variants...);
* this module writes them as the CSV and runs the command;
* data/synth_listening.py writes the listening beside the CSV (data/listening/planted.py draws
  the sessions, data/synth_listening_files.py writes their formats).
"""

from __future__ import annotations

import argparse
import gzip
import os
from pathlib import Path

from spotrec.data.synth_catalogue import DEFAULT_TRACKS, generate_rows

HELP = "write a realistic synthetic catalogue CSV (the demo's embedded default)"


def write_synthetic_csv(
    path: str | os.PathLike,
    n_tracks: int = DEFAULT_TRACKS,
    seed: int = 0,
    stats_path: str | os.PathLike | None = None,
) -> Path:
    """Write the synthetic catalogue CSV (gzip when ``path`` ends in .gz), atomically."""
    from spotrec.data.stats import load_stats

    path = Path(path)
    rows = generate_rows(n_tracks, seed, load_stats(stats_path))
    path.parent.mkdir(parents=True, exist_ok=True)
    data = rows.to_csv(index=True, index_label="", lineterminator="\n").encode("utf-8")
    if path.suffix == ".gz":  # mtime=0 and no file name: the same seed gives the same bytes
        data = gzip.compress(data, mtime=0)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, help="CSV to write (.gz for gzip)")
    parser.add_argument(
        "--tracks",
        type=int,
        default=DEFAULT_TRACKS,
        help="number of unique tracks (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--stats",
        default=None,
        help="genre statistics JSON (default: the committed genre_stats.json)",
    )
    from spotrec.data.synth_listening import add_listening_arguments

    parser.add_argument(
        "--listening-out",
        type=Path,
        default=None,
        help="directory for synthetic listening over this catalogue (default: <out>-listening "
        "beside the CSV; --sessions 0 writes none)",
    )
    add_listening_arguments(parser, default_sessions=2_000)


def run(args: argparse.Namespace) -> int:
    path = write_synthetic_csv(args.out, args.tracks, args.seed, args.stats)
    print(f"wrote {path} ({args.tracks:,} tracks, seed {args.seed})")
    from spotrec.data.synth_listening import write_beside_catalogue

    if listening := write_beside_catalogue(path, args):
        print(f"wrote {args.sessions:,} synthetic listening sessions to {listening}")
    return 0
