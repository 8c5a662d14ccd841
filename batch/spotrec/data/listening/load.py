"""``load_listening``: read every listening source, validate, map onto the catalogue, count.

Per chunk (readers.py / mpd.py stream them): named rejects (events.py) -> track ids looked up in
the catalogue -> ids the catalogue lacks are counted as out of catalogue (never an error: most
public playlist tracks are not among the catalogue's) or, with ``match_names``, matched to a
catalogue song by title + artist (matching.py). Only integer codes are kept between chunks, so
100k MPD-sized sessions stay well under a gigabyte.

Order within a session: MPD ``pos`` (or a log's ``position`` column) when given, else the
timestamp, then the order read. ``position`` is renumbered 0, 1, 2... per session.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.data.listening.columnwise import take_strings
from spotrec.data.listening.events import check_chunk
from spotrec.data.listening.matching import NameMatcher
from spotrec.data.listening.readers import discover, read_file
from spotrec.errors import SpotrecError

log = logging.getLogger(__name__)


@dataclass
class ListeningResult:
    events: pd.DataFrame  # schema.LISTENING_COLUMNS
    rejects: pd.DataFrame  # schema.LISTENING_REJECT_COLUMNS
    stats: dict = field(default_factory=dict)


class _Accumulator:
    """Integer-coded events of all chunks so far."""

    def __init__(self) -> None:
        self.session_codes: dict[str, int] = {}
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in ("s", "t", "e", "ts", "pos")}

    def add(self, sessions: pd.Series, rows: np.ndarray, events, stamps, positions) -> None:
        codes, uniques = pd.factorize(sessions)
        table = self.session_codes
        mapping = np.fromiter(
            (table.setdefault(s, len(table)) for s in uniques), dtype=np.int64, count=len(uniques)
        )
        self.parts["s"].append(mapping[codes])
        self.parts["t"].append(rows.astype(np.int32))
        self.parts["e"].append(events)
        self.parts["ts"].append(stamps)
        self.parts["pos"].append(positions)

    def events(self, track_ids: np.ndarray) -> pd.DataFrame:
        if not self.parts["s"]:
            return empty_events()
        session = np.concatenate(self.parts["s"])
        rows = np.concatenate(self.parts["t"])
        event = np.concatenate(self.parts["e"])
        stamp = np.concatenate(self.parts["ts"])
        given = np.concatenate(self.parts["pos"])
        sequence = np.arange(len(session))
        order = _session_order(session, np.nan_to_num(given, nan=-1.0), stamp)
        session = session[order]
        starts = np.r_[0, np.flatnonzero(np.diff(session)) + 1]
        position = sequence - np.repeat(starts, np.diff(np.r_[starts, len(session)]))
        return pd.DataFrame(
            {
                schema.LS_SESSION_ID: take_strings(list(self.session_codes), session),
                schema.LS_TRACK_ID: take_strings(track_ids, rows[order]),
                schema.LS_EVENT: pd.Series(
                    np.asarray(schema.LISTENING_EVENTS, dtype=object)[event[order]], dtype=object
                ),
                schema.LS_TIMESTAMP: pd.to_datetime(stamp[order], utc=True).astype(
                    "datetime64[ns, UTC]"
                ),
                schema.LS_POSITION: position.astype(np.int32),
            }
        )


def _session_order(session: np.ndarray, given: np.ndarray, stamp: np.ndarray) -> np.ndarray:
    """Rows ordered by session, then given position, then timestamp, then as read. np.lexsort
    (last key primary) is stable, so equal keys keep the order read; a log already in that
    order (each session's rows together, in time) needs no sort at all."""
    if len(session) > 1:
        same = session[1:] == session[:-1]
        rises = session[1:] > session[:-1]
        same_given = same & (given[1:] == given[:-1])
        rises |= same & (given[1:] > given[:-1])
        rises |= same_given & (stamp[1:] >= stamp[:-1])  # NaT compares False: sorted below
        if not rises.all():
            return np.lexsort((stamp, given, session))
    return np.arange(len(session))


def empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.LS_SESSION_ID: pd.Series(dtype=object),
            schema.LS_TRACK_ID: pd.Series(dtype=object),
            schema.LS_EVENT: pd.Series(dtype=object),
            schema.LS_TIMESTAMP: pd.Series(dtype="datetime64[ns, UTC]"),
            schema.LS_POSITION: pd.Series(dtype=np.int32),
        }
    )


def _rejects_frame(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in schema.LISTENING_REJECT_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    out[schema.LS_REJECT_LINE] = out[schema.LS_REJECT_LINE].astype(np.int64)
    return out.loc[:, list(schema.LISTENING_REJECT_COLUMNS)]


def load_listening(
    paths: list[str | os.PathLike] | str | os.PathLike,
    tracks: pd.DataFrame,
    *,
    match_names: bool = False,
    max_reject_share: float = 0.5,
    rejects_path: str | os.PathLike | None = None,
) -> ListeningResult:
    """Read listening data (files or directories) against the catalogue ``tracks``.

    Raises SpotrecError when nothing can be read, or (after writing ``rejects_path``) when more
    than ``max_reject_share`` of the rows read are refused, naming the reasons and counts.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files, skipped = discover(list(paths))
    if not files:
        raise SpotrecError(f"no listening files (MPD .json, .csv, .jsonl, .parquet) in {paths}")
    track_ids = tracks[schema.TRACK_ID].to_numpy(dtype=object)
    index = pd.Index(track_ids)
    matcher = NameMatcher(tracks) if match_names else None
    event_codes = pd.Index(schema.LISTENING_EVENTS)
    acc, reject_parts = _Accumulator(), []
    rows_read = out_events = matched_events = 0
    out_ids: set[str] = set()
    matched_ids: set[str] = set()
    sessions_read: set[str] = set()  # including sessions with no catalogue track at all
    for number, (path, kind) in enumerate(files, start=1):
        log.info("listening: reading %s (%d of %d files)", path, number, len(files))
        for chunk in read_file(path, kind, names=match_names):
            rows_read += chunk.rows_read
            frames = [pd.DataFrame(chunk.rejects, columns=["_line", "reason", "detail"])]
            if chunk.raw is not None and len(chunk.raw):
                clean, refused = check_chunk(chunk.raw, timestamp_required=chunk.timestamp_required)
                frames.append(refused)
                sessions_read.update(_uniques(clean[schema.LS_SESSION_ID]))
                rows = _codes_in(index, clean[schema.LS_TRACK_ID])
                unknown = rows < 0
                if matcher is not None and unknown.any():
                    found = matcher.match(clean.loc[unknown, ["track_name", "artist_name"]])
                    matched_events += int((found >= 0).sum())
                    matched_ids.update(_uniques(clean.loc[unknown, schema.LS_TRACK_ID][found >= 0]))
                    rows[unknown] = found
                    unknown = rows < 0
                out_events += int(unknown.sum())
                out_ids.update(_uniques(clean.loc[unknown, schema.LS_TRACK_ID]))
                kept = clean.loc[~unknown]
                stamps = kept[schema.LS_TIMESTAMP].to_numpy(dtype="datetime64[ns]")
                acc.add(
                    kept[schema.LS_SESSION_ID],
                    rows[~unknown],
                    _codes_in(event_codes, kept[schema.LS_EVENT]).astype(np.int8),
                    stamps,
                    kept[schema.LS_POSITION].to_numpy(dtype=float),
                )
            refused = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
            if len(refused):
                reject_parts.append(
                    refused.rename(columns={"_line": schema.LS_REJECT_LINE}).assign(
                        **{schema.LS_REJECT_SOURCE: chunk.source}
                    )
                )
    events = acc.events(track_ids)
    rejects = _rejects_frame(reject_parts)
    by_reason = {str(k): int(v) for k, v in rejects[schema.REJECT_REASON].value_counts().items()}
    stats = {
        "files_read": len(files),
        "files_skipped": skipped,
        "rows_read": rows_read,
        "rows_rejected": len(rejects),
        "rejects_by_reason": by_reason,
        "events_kept": len(events),
        "events_by_type": {
            str(k): int(v) for k, v in events[schema.LS_EVENT].value_counts().items()
        },
        "sessions_read": len(sessions_read),
        "sessions": int(events[schema.LS_SESSION_ID].nunique()),
        "tracks_with_events": int(events[schema.LS_TRACK_ID].nunique()),
        "out_of_catalogue": out_events,
        "out_of_catalogue_tracks": len(out_ids),
        "matched_by_name": matched_events,
        "matched_by_name_tracks": len(matched_ids),
        "match_names": bool(match_names),
    }
    log.info("listening: %s", {k: v for k, v in stats.items() if k != "files_skipped"})
    if skipped:
        log.warning("listening: skipped %d file(s) of unknown kind, e.g. %s", *_first(skipped))
    if rejects_path is not None:
        write_listening_rejects(rejects, rejects_path)
    share = len(rejects) / rows_read if rows_read else 1.0
    if share > max_reject_share:
        raise SpotrecError(
            f"listening data: rejected {len(rejects)} of {rows_read} rows ({share:.2%}), more "
            f"than the allowed {max_reject_share:.2%}; by reason: {by_reason}"
        )
    return ListeningResult(events=events, rejects=rejects, stats=stats)


def _uniques(values: pd.Series) -> list:
    """Distinct values as a list (iterating an Arrow-backed Series one by one is slow; its
    unique() runs in Arrow, so only the distinct values become Python objects)."""
    return pd.unique(values).tolist()


def _codes_in(index: pd.Index, values: pd.Series) -> np.ndarray:
    """``index.get_indexer(values)`` (-1 where absent), each distinct value looked up once
    (an event log repeats a track id ~180 times at 100k sessions, an event name millions)."""
    codes, uniques = pd.factorize(values)
    rows = np.r_[index.get_indexer(uniques.to_numpy(dtype=object)), -1]  # code -1: NA
    return rows[codes]


def _first(items: list[str]) -> tuple[int, str]:
    return len(items), items[0]


def write_listening_rejects(rejects: pd.DataFrame, path: str | os.PathLike) -> Path:
    """The rejects CSV (schema.LISTENING_REJECT_COLUMNS), written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        rejects.loc[:, list(schema.LISTENING_REJECT_COLUMNS)].to_csv(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
