"""Where accepted events go: the EventStore interface, and the store picked from the environment.

Two implementations hold the same data: ``sqlite_event_store.SqliteEventStore`` (a SQLite file
beside the release store, for `spotrec serve`) and ``dynamodb_event_store.DynamoDBEventStore``
(the events table in AWS). Both

- write each event at most once, keyed by ``Event.key`` (events.py): a retried event is a
  duplicate, counted once;
- keep the session summary (session_summary.py) current in the same call, safely under
  concurrent writers (a transaction in SQLite, a conditional update in DynamoDB);
- read a session's summary together with the release items the recommendation needs
  (``fetch_with_summary``), in one DynamoDB BatchGetItem when both tables are in DynamoDB.

Environment: ``SPOTREC_EVENTS_TABLE`` -> DynamoDB; else ``SPOTREC_EVENTS_DB`` (a file); else
``events.sqlite`` beside ``SPOTREC_STORE`` (the build directory, or the store file's folder).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from spotrec_serving.errors import ServiceUnavailable
from spotrec_serving.events import Event
from spotrec_serving.session_summary import Enrichment
from spotrec_serving.store import ItemStore

EVENTS_FILE = "events.sqlite"
EXPORT_COLUMNS = ("session_id", "track_id", "event", "timestamp")  # listening-contract.md


class EventStore(Protocol):
    def put_events(
        self, session_id: str, events: Sequence[Event], enrichment: Mapping[str, Enrichment]
    ) -> tuple[int, int]:
        """Write new events and update the session summary; returns (written, duplicates)."""
        ...

    def get_summary(self, session_id: str) -> dict | None:
        """The session's summary document, or None for a session with no events."""
        ...

    def fetch_with_summary(
        self, item_store: ItemStore, run_id: str, keys: Sequence[str], session_id: str
    ) -> tuple[dict[str, dict[str, Any]], dict | None]:
        """item_store.get_items(run_id, keys) and the session summary, in as few round trips
        as the stores allow."""
        ...

    def iter_events(self) -> Iterator[dict[str, Any]]:
        """Every stored event as {session_id, track_id, event, timestamp (epoch ms), key}."""
        ...


def events_location(environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """("dynamodb", table) or ("sqlite", path) from the environment (see the module doc)."""
    env = os.environ if environ is None else environ
    table = env.get("SPOTREC_EVENTS_TABLE", "").strip()
    if table:
        return "dynamodb", table
    path = env.get("SPOTREC_EVENTS_DB", "").strip()
    if path:
        return "sqlite", path
    store = env.get("SPOTREC_STORE", "").strip()
    if store:
        folder = Path(store) if Path(store).is_dir() else Path(store).parent
        return "sqlite", str(folder / EVENTS_FILE)
    raise ServiceUnavailable(
        "no event store is configured "
        "(set SPOTREC_EVENTS_TABLE, SPOTREC_EVENTS_DB or SPOTREC_STORE)"
    )


@functools.lru_cache(maxsize=4)
def _make(kind: str, where: str) -> EventStore:
    if kind == "dynamodb":
        from spotrec_serving.dynamodb_event_store import DynamoDBEventStore

        return DynamoDBEventStore(where)
    from spotrec_serving.sqlite_event_store import SqliteEventStore

    return SqliteEventStore(where)


def make_event_store(environ: Mapping[str, str] | None = None) -> EventStore:
    """The event store for this process, made once per location."""
    return _make(*events_location(environ))


def optional_event_store(environ: Mapping[str, str] | None = None) -> EventStore | None:
    """The event store, or None when none is configured (the read API then answers without
    session awareness rather than failing: sessions are an extra, not a requirement)."""
    try:
        return make_event_store(environ)
    except ServiceUnavailable:
        return None
