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
listening beside its catalogue. How the sessions are planted: data/listening/planted.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

HELP = "write synthetic listening (events log + MPD slices + planted tastes) over a catalogue"
DEFAULT_SESSIONS = 2_000
SLICE_SIZE = 1_000
EVENT_FORMATS = ("csv", "jsonl", "parquet")
EVENTS_STEM, MPD_DIR, TRUTH_FILE = "events", "mpd", "tastes.json"
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"

log = logging.getLogger(__name__)


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_events(events, out_dir: Path, events_format: str) -> Path:
    path = out_dir / f"{EVENTS_STEM}.{events_format}"
    writers = {
        "csv": lambda p: events.to_csv(p, index=False, date_format=ISO_SECONDS),
        "jsonl": lambda p: events.to_json(
            p, orient="records", lines=True, date_format="iso", date_unit="s"
        ),
        "parquet": lambda p: events.to_parquet(p, index=False),
    }
    _atomic_write(path, writers[events_format])
    return path


def _track_entries(tracks, rows) -> tuple[list[bytes], dict[str, list]]:
    """For each catalogue row in ``rows``: its MPD track entry as JSON without the opening
    brace (a playlist entry is ``{"pos":N,`` + this), and the per-row facts a playlist
    summarises. Ids are hashed once per distinct artist and album, not once per play."""
    import numpy as np
    import orjson

    from spotrec import schema
    from spotrec_serving.names import artist_id, base62_id

    ids = tracks[schema.TRACK_ID].to_numpy(dtype=object)[rows]
    names = tracks[schema.NAME].to_numpy(dtype=object)[rows]
    artists = tracks[schema.ARTISTS].to_numpy(dtype=object)[rows]
    albums = tracks[schema.ALBUM].to_numpy(dtype=object)[rows]
    durations = tracks[schema.DURATION_MS].to_numpy(dtype=np.int64)[rows].tolist()
    artist_uris: dict[str, str] = {}
    album_uris: dict[str, str] = {}
    bodies: list[bytes] = []
    facts: dict[str, list] = {"album": [], "artist": [], "duration": durations}
    for i in range(len(rows)):
        first = artists[i][0] if len(artists[i]) else ""
        album = albums[i] or ""
        if first not in artist_uris:
            artist_uris[first] = f"spotify:artist:{artist_id(first)}"
        if album not in album_uris:
            album_uris[album] = f"spotify:album:{base62_id(album, 'album')}"
        entry = {
            "artist_name": first,
            "track_uri": f"spotify:track:{ids[i]}",
            "artist_uri": artist_uris[first],
            "track_name": names[i],
            "album_uri": album_uris[album],
            "duration_ms": durations[i],
            "album_name": albums[i],
        }
        bodies.append(orjson.dumps(entry)[1:])
        facts["album"].append(album_uris[album])
        facts["artist"].append(artist_uris[first])
    return bodies, facts


def write_mpd_slices(tracks, planted: dict, out_dir: Path) -> list[Path]:
    """The kept (not skipped) tracks of each session as MPD playlists, 1,000 per slice.

    Each distinct track's entry is serialised once and spliced in (orjson.Fragment) wherever
    it is played: the bytes are those of dumping the whole document as dicts, at a fraction of
    the per-play Python work (1M plays at 1M tracks)."""
    import numpy as np
    import orjson

    session, row = planted["session"], planted["row"]
    kept = ~planted["skipped"]
    session, row = session[kept], row[kept]
    bounds = np.searchsorted(session, np.arange(len(planted["session_taste"]) + 1))
    distinct, code = np.unique(row, return_inverse=True)
    bodies, facts = _track_entries(tracks, distinct)
    album, artist, duration = facts["album"], facts["artist"], facts["duration"]
    (out_dir / MPD_DIR).mkdir(parents=True, exist_ok=True)
    paths = []
    n_sessions = len(bounds) - 1
    for first in range(0, n_sessions, SLICE_SIZE):
        last = min(first + SLICE_SIZE, n_sessions) - 1
        playlists = []
        for pid in range(first, last + 1):
            codes = code[bounds[pid] : bounds[pid + 1]].tolist()
            entries = b",".join(b'{"pos":%d,%b' % (pos, bodies[c]) for pos, c in enumerate(codes))
            playlists.append(
                {
                    "name": f"mix {pid}",
                    "collaborative": "false",
                    "pid": pid,
                    "modified_at": int(planted["session_end"][pid]),
                    "num_tracks": len(codes),
                    "num_albums": len({album[c] for c in codes}),
                    "num_followers": 1,
                    "tracks": orjson.Fragment(b"[" + entries + b"]"),
                    "num_edits": 1,
                    "duration_ms": sum(duration[c] for c in codes),
                    "num_artists": len({artist[c] for c in codes}),
                }
            )
        document = {
            "info": {"generated_on": "spotrec synth", "slice": f"{first}-{last}", "version": "v1"},
            "playlists": playlists,
        }
        path = out_dir / MPD_DIR / f"mpd.slice.{first}-{last}.json"
        _atomic_write(path, lambda p, d=document: p.write_bytes(orjson.dumps(d)))
        paths.append(path)
        log.info("synth listening: wrote %s", path.name)
    return paths


def ground_truth(tracks, planted: dict, seed: int) -> dict:
    import numpy as np

    from spotrec import schema

    taste_of_row = planted["taste_of_row"]
    ids = tracks[schema.TRACK_ID].to_numpy(dtype=object)
    artists = tracks[schema.ARTISTS].to_numpy(dtype=object)
    # Rows grouped by taste in one stable sort (ascending rows within each), not one scan of
    # the catalogue per taste (quadratic at 1M tracks).
    by_taste = np.argsort(taste_of_row, kind="stable")
    bounds = np.searchsorted(taste_of_row[by_taste], np.arange(len(planted["taste_genres"]) + 1))
    tastes = []
    for taste, genres in enumerate(planted["taste_genres"]):
        rows = by_taste[bounds[taste] : bounds[taste + 1]]
        first_artists = sorted({a for r in rows for a in artists[r][:1]})
        tracks_of_taste = ids[rows].tolist()
        tastes.append(
            {"taste": taste, "genres": genres, "artists": first_artists, "tracks": tracks_of_taste}
        )
    return {
        "seed": seed,
        "sessions": len(planted["session_taste"]),
        "session_ids": "events: synth-<n>; MPD: pid <n> (session mpd:<n>)",
        "played_tracks": int((taste_of_row >= 0).sum()),
        "rare_tracks": ids[planted["rare"]].tolist(),
        "catalogue_tracks": len(tracks),
        "tastes": tastes,
        "session_tastes": planted["session_taste"].tolist(),
    }


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
    _atomic_write(out_dir / TRUTH_FILE, lambda p: p.write_text(json.dumps(truth), "utf-8"))
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
