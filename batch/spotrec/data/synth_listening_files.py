"""Files of the planted listening (data/listening/planted.py draws it; data/synth_listening.py
runs the command): the events log (csv, jsonl or parquet), MPD slices of 1,000 playlists and the
ground truth (tastes.json). Every file is written atomically (temporary name, then rename).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

SLICE_SIZE = 1_000
EVENT_FORMATS = ("csv", "jsonl", "parquet")
EVENTS_STEM, MPD_DIR, TRUTH_FILE = "events", "mpd", "tastes.json"
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"

log = logging.getLogger(__name__)


def atomic_write(path: Path, write) -> None:
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
    atomic_write(path, writers[events_format])
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
        atomic_write(path, lambda p, d=document: p.write_bytes(orjson.dumps(d)))
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
