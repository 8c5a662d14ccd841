"""The compact per-session summary: what the read path needs to react within a session.

One JSON document per session, kept current by the write path (POST /v1/events) and read by
GET /v1/recommendations?session_id=S in the SAME store call as the neighbour lists, so session
awareness costs no extra round trip. To make that possible the write path puts into the summary
what the read path would otherwise have to look up: each liked/saved track's top neighbours
(track ids with their scores: ids, not a run's catalogue indexes, because a summary outlives a
release; the reader maps them through the cached catalogue) and each skipped track's song id and
close neighbour ids. Pure functions; the stores only load and save the document.

Document (all lists oldest first)::

    {"events":  [[key, track_id, song_id, event, timestamp_ms], ...]   # the last 50
     "liked":   [[track_id, weight, [[score, neighbour id], ...]], ...] # newest 10 likes/saves
     "skipped": [[track_id, song_id, [neighbour id, ...]], ...]         # newest 100 skips
     "shown":   [track_id, ...]}                                        # newest 200 impressions

Size: at most ~10 x 10 neighbour ids (~3 KB) + small lists; ``encode_summary`` trims the oldest
entries until the JSON fits MAX_SUMMARY_BYTES (well under DynamoDB's 400 KB item limit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from spotrec_serving.events import Event

MAX_EVENTS = 50
MAX_LIKED = 10
MAX_SKIPPED = 100
MAX_SKIP_NEIGHBOURS = 10  # only the close neighbours of a skip are pushed down
MAX_LIKE_NEIGHBOURS = 10
MAX_SHOWN = 200
MAX_SUMMARY_BYTES = 48_000
LIKE_WEIGHTS = {"like": 1.0, "save": 1.0}


@dataclass(frozen=True, slots=True)
class Enrichment:
    """What the write path read from the current release for one track."""

    song_id: str
    neighbours: list = field(default_factory=list)  # [[score, track id], ...] rank order


def neighbour_id(entry: str | list) -> str:
    """A stored neighbour's track id: an id, or (summaries written before the compact layout)
    an encoded TrackSummary, whose first field is the id."""
    return entry if isinstance(entry, str) else entry[0]


def empty_summary() -> dict:
    return {"events": [], "liked": [], "skipped": [], "shown": []}


def summary_keys(summary: dict | None) -> set[str]:
    return {entry[0] for entry in (summary or empty_summary())["events"]}


def apply_events(
    summary: dict | None, events: list[Event], enrichment: dict[str, Enrichment]
) -> tuple[dict, int]:
    """The summary with ``events`` applied (events it already holds are skipped, so applying a
    retried batch twice changes nothing); returns (summary, number applied)."""
    result = json.loads(json.dumps(summary)) if summary else empty_summary()
    seen = summary_keys(result)
    applied = 0
    for event in sorted(events, key=lambda e: e.timestamp):
        if event.key in seen:
            continue
        seen.add(event.key)
        applied += 1
        info = enrichment.get(event.track_id) or Enrichment(song_id=event.track_id)
        result["events"].append(
            [event.key, event.track_id, info.song_id, event.event, event.timestamp]
        )
        if event.event in LIKE_WEIGHTS:
            result["liked"] = [e for e in result["liked"] if e[0] != event.track_id]
            neighbours = info.neighbours[:MAX_LIKE_NEIGHBOURS]
            result["liked"].append([event.track_id, LIKE_WEIGHTS[event.event], neighbours])
        elif event.event == "skip":
            result["skipped"] = [e for e in result["skipped"] if e[0] != event.track_id]
            near = [neighbour_id(n) for _, n in info.neighbours[:MAX_SKIP_NEIGHBOURS]]
            result["skipped"].append([event.track_id, info.song_id, near])
        if event.impression:
            shown = [t for t in result["shown"] if t not in set(event.impression)]
            result["shown"] = shown + list(event.impression)
    result["events"] = result["events"][-MAX_EVENTS:]
    result["liked"] = result["liked"][-MAX_LIKED:]
    result["skipped"] = result["skipped"][-MAX_SKIPPED:]
    result["shown"] = result["shown"][-MAX_SHOWN:]
    return result, applied


def encode_summary(summary: dict) -> str:
    """Compact JSON under MAX_SUMMARY_BYTES: oldest impressions, then the oldest likes'
    neighbour lists, then the oldest skips' neighbour ids go first. Never the events."""
    trimmed = json.loads(json.dumps(summary))
    while True:
        text = json.dumps(trimmed, separators=(",", ":"), ensure_ascii=False)
        if len(text.encode()) <= MAX_SUMMARY_BYTES:
            return text
        if trimmed["shown"]:
            trimmed["shown"] = trimmed["shown"][len(trimmed["shown"]) // 2 + 1 :]
        elif any(entry[2] for entry in trimmed["liked"]):
            next(entry for entry in trimmed["liked"] if entry[2])[2] = []
        elif any(entry[2] for entry in trimmed["skipped"]):
            next(entry for entry in trimmed["skipped"] if entry[2])[2] = []
        else:
            trimmed["skipped"] = trimmed["skipped"][len(trimmed["skipped"]) // 2 + 1 :]
            if not trimmed["skipped"] and not trimmed["shown"]:
                trimmed["events"] = trimmed["events"][len(trimmed["events"]) // 2 + 1 :]
