"""Validation of POST /v1/events bodies (shaped like Amazon Personalize's PutEvents). Stdlib only.

Body::

    {"session_id": "...",
     "events": [{"track_id": "...", "event": "play|like|skip|save",
                 "timestamp": "2026-01-01T12:00:00Z",     # optional, ISO 8601; default: now
                 "event_id": "...",                        # optional client id (retries)
                 "impression": ["<track id>", ...],        # optional: results shown (<= 50)
                 "context": {"seed_tracks": [...], "model": "...", "position": 3}}]}

Every failure is a BadRequest naming the field, so the client learns what to fix; a batch is
accepted whole or refused whole (nothing is half-written).

Idempotency: each event has a key, the client's ``event_id`` when given, else a hash of
session + track + event + timestamp. The stores write a key at most once, so a retried like
counts once. A retry without event_id and without timestamp gets a new server timestamp, hence
a new key: clients that retry should send one of the two (the web page sends event_id).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from spotrec_serving.errors import ApiError, BadRequest
from spotrec_serving.items import TRACK_ID_PATTERN

EVENT_TYPES = ("play", "like", "skip", "save")
MAX_EVENTS = 10
MAX_BODY_BYTES = 16 * 1024
MAX_IMPRESSION = 50
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,128}$")  # URL-safe base64 alphabet
EVENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_FUTURE = timedelta(minutes=5)  # clock skew tolerated on client timestamps
MAX_PAST = timedelta(days=30)  # older events are history imports, not sessions: refuse
EVENT_FIELDS = {"track_id", "event", "timestamp", "event_id", "impression", "context"}
CONTEXT_FIELDS = {"seed_tracks", "model", "position"}


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


@dataclass(frozen=True, slots=True)
class Event:
    """One accepted event. ``timestamp`` is UTC epoch milliseconds."""

    key: str
    session_id: str
    track_id: str
    event: str
    timestamp: int
    context: dict = field(default_factory=dict)
    impression: tuple[str, ...] = ()

    def iso_timestamp(self) -> str:
        moment = datetime.fromtimestamp(self.timestamp / 1000, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_session_id(session_id: object, name: str = "session_id") -> str:
    if session_id is None:
        raise BadRequest(f"missing '{name}'")
    if not isinstance(session_id, str) or not SESSION_ID_PATTERN.match(session_id):
        raise BadRequest(
            f"invalid '{name}': it must be 8-128 characters from A-Z a-z 0-9 - _ (URL-safe)"
        )
    return session_id


def event_key(session_id: str, track_id: str, event: str, timestamp_ms: int) -> str:
    text = f"{session_id}\x1f{track_id}\x1f{event}\x1f{timestamp_ms}"
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def parse_timestamp(value: object, where: str, now: datetime) -> int:
    if not isinstance(value, str) or len(value) > 40:
        raise BadRequest(f"invalid {where}.timestamp: give an ISO 8601 string")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"invalid {where}.timestamp {value[:40]!r}: not ISO 8601") from None
    if moment.tzinfo is None:
        raise BadRequest(f"invalid {where}.timestamp {value[:40]!r}: give a time zone (e.g. Z)")
    if moment > now + MAX_FUTURE or moment < now - MAX_PAST:
        raise BadRequest(f"invalid {where}.timestamp {value[:40]!r}: not within the last 30 days")
    return int(moment.timestamp() * 1000)


def _track_id(value: object, where: str) -> str:
    if not isinstance(value, str) or not TRACK_ID_PATTERN.match(value):
        raise BadRequest(f"invalid {where}: a track id is 22 characters of base-62")
    return value


def _context(value: object, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"invalid {where}.context: give an object")
    unknown = set(value) - CONTEXT_FIELDS
    if unknown:
        raise BadRequest(f"unknown field {sorted(unknown)[0][:40]!r} in {where}.context")
    context: dict = {}
    if "seed_tracks" in value:
        seeds = value["seed_tracks"]
        if not isinstance(seeds, list) or len(seeds) > 5:
            raise BadRequest(f"invalid {where}.context.seed_tracks: a list of at most 5 ids")
        context["seed_tracks"] = [_track_id(s, f"{where}.context.seed_tracks") for s in seeds]
    if "model" in value:
        model = value["model"]
        if not isinstance(model, str) or not 0 < len(model) <= 40:
            raise BadRequest(f"invalid {where}.context.model: a model name")
        context["model"] = model
    if "position" in value:
        position = value["position"]
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < 1000:
            raise BadRequest(f"invalid {where}.context.position: an integer 0..999")
        context["position"] = position
    return context


def _event(raw: object, index: int, session_id: str, now: datetime) -> Event:
    where = f"events[{index}]"
    if not isinstance(raw, dict):
        raise BadRequest(f"invalid {where}: give an object")
    unknown = set(raw) - EVENT_FIELDS
    if unknown:
        raise BadRequest(f"unknown field {sorted(unknown)[0][:40]!r} in {where}")
    track_id = _track_id(raw.get("track_id"), f"{where}.track_id")
    kind = raw.get("event")
    if kind not in EVENT_TYPES:
        shown = kind[:20] if isinstance(kind, str) else kind
        raise BadRequest(f"invalid {where}.event {shown!r}: one of {', '.join(EVENT_TYPES)}")
    if raw.get("timestamp") is None:
        timestamp = int(now.timestamp() * 1000)
    else:
        timestamp = parse_timestamp(raw["timestamp"], where, now)
    impression = raw.get("impression") or []
    if not isinstance(impression, list) or len(impression) > MAX_IMPRESSION:
        raise BadRequest(f"invalid {where}.impression: a list of at most {MAX_IMPRESSION} ids")
    shown = tuple(_track_id(t, f"{where}.impression") for t in impression)
    client_id = raw.get("event_id")
    if client_id is not None:
        if not isinstance(client_id, str) or not EVENT_ID_PATTERN.match(client_id):
            raise BadRequest(f"invalid {where}.event_id: 1-64 characters of A-Z a-z 0-9 . _ : -")
        key = "c:" + client_id
    else:
        key = event_key(session_id, track_id, kind, timestamp)
    return Event(
        key, session_id, track_id, kind, timestamp, _context(raw.get("context"), where), shown
    )


def check_content_type(content_type: str | None) -> None:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType("the body must be JSON: send Content-Type: application/json")


def parse_events_body(body: str | bytes | None, now: datetime | None = None) -> list[Event]:
    """The events of one request body, validated; BadRequest / PayloadTooLarge otherwise."""
    now = now or datetime.now(UTC)
    if body is None or body in ("", b""):
        raise BadRequest("missing body: give {'session_id': ..., 'events': [...]}")
    data = body.encode() if isinstance(body, str) else body
    if len(data) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body of {len(data)} bytes is over {MAX_BODY_BYTES} bytes")
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = set(payload) - {"session_id", "events"}
    if unknown:
        raise BadRequest(f"unknown field {sorted(unknown)[0][:40]!r} in the body")
    session_id = check_session_id(payload.get("session_id"))
    raw_events = payload.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise BadRequest("missing 'events': give a list of 1 to 10 events")
    if len(raw_events) > MAX_EVENTS:
        raise BadRequest(f"too many events: {len(raw_events)} (at most {MAX_EVENTS} per call)")
    events = [_event(raw, i, session_id, now) for i, raw in enumerate(raw_events)]
    return list({event.key: event for event in events}.values())  # repeats in one call: once
