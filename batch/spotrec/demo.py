"""`spotrec demo`: build on the embedded default catalogue, then serve the API and web page.

On the synthetic catalogue the demo also generates synthetic listening sessions with planted
tastes (data/synth.py) and builds with them, so it shows the co-listening model and the hybrid.

The input is, in order: --data, $SPOTREC_DATA, or a synthetic catalogue generated once into the
cache (realistic per-genre statistics, see data/synth.py), so the demo works offline with no
account and no download. A build is reused when its manifest says it came from the same input
file (same sha256) with the same models; --rebuild forces a new one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
from pathlib import Path

from spotrec import schema

log = logging.getLogger("spotrec.demo")

HELP = "build on the embedded default catalogue (or --data) and serve it at http://127.0.0.1:8000"
DEFAULT_SYNTH_TRACKS = 20_000
DEMO_SESSIONS = 2_000


def cache_dir() -> Path:
    return Path(os.environ.get("SPOTREC_CACHE", Path.home() / ".cache" / "spotrec"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, default=os.environ.get("SPOTREC_DATA"))
    parser.add_argument("--out", type=Path, default=Path("out/demo"), help="build directory")
    parser.add_argument("--tracks", type=int, default=DEFAULT_SYNTH_TRACKS, help="synthetic size")
    parser.add_argument(
        "--models", help="default: every model (the listening ones on synthetic listening)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--rebuild", action="store_true", help="build even if a build exists")
    parser.add_argument("--no-serve", action="store_true", help="build only")


def default_data(n_tracks: int) -> Path:
    from spotrec.data.synth import write_synthetic_csv

    path = cache_dir() / f"synthetic-{n_tracks}-seed0.csv.gz"
    if not path.is_file():
        log.info("generating a synthetic catalogue of %d tracks at %s", n_tracks, path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic_csv(path, n_tracks=n_tracks, seed=0)
    return path


def _file_digest(path: Path) -> str:
    # The build records the sha256 of the *uncompressed* content; compare on the raw bytes of
    # the file instead, kept in a small marker next to the build.
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _is_current(out: Path, data: Path, models: str) -> bool:
    marker = out / "demo-input.json"
    if not (out / schema.STORE_FILE).is_file() or not marker.is_file():
        return False
    recorded = json.loads(marker.read_text())
    return recorded == {"sha256": _file_digest(data), "models": models}


def default_listening(data: Path) -> Path | None:
    """Synthetic listening sessions with planted tastes for the synthetic catalogue, as an
    events log (None when the demo runs on the user's own --data: we cannot invent their
    listeners)."""
    from spotrec.data.ingest import load_catalogue
    from spotrec.data.synth_listening import listening_dir_for, write_synthetic_listening
    from spotrec.data.synth_listening_files import EVENTS_STEM

    if data.parent != cache_dir():
        return None
    directory = listening_dir_for(data)
    path = directory / f"{EVENTS_STEM}.csv"
    if not path.is_file():
        log.info("generating %d synthetic listening sessions at %s", DEMO_SESSIONS, path)
        tracks = load_catalogue(data).tracks
        write_synthetic_listening(tracks, directory, n_sessions=DEMO_SESSIONS, formats=("events",))
    return path


def run(args: argparse.Namespace) -> int:
    from spotrec.build import parse_models
    from spotrec.pipeline import BuildConfig, run_build

    data = Path(args.data) if args.data else default_data(args.tracks)
    listening = default_listening(data)
    if args.rebuild or not _is_current(args.out, data, args.models):
        config = BuildConfig(
            out=args.out,
            data=data,
            models=parse_models(args.models, listening=listening is not None),
            interactions=(listening,) if listening else (),
            synthetic=not args.data,  # made-up ids: the page shows no Spotify links
        )
        run_build(config)
        marker = {"sha256": _file_digest(data), "models": args.models}
        (args.out / "demo-input.json").write_text(json.dumps(marker))
    else:
        log.info("reusing the build in %s (same input and models; --rebuild to force)", args.out)
    if args.no_serve:
        return 0
    from spotrec.server import serve

    return serve(args.out, host=args.host, port=args.port)
