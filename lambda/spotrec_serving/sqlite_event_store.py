"""EventStore in a SQLite file (``events.sqlite`` beside the release store; see event_store.py).

Tables ``events(event_key PRIMARY KEY, session_id, track_id, event, ts_ms, context, received_ms)``
and ``sessions(session_id PRIMARY KEY, body, version)``. WAL mode lets readers run during a write.
A call is ONE ``BEGIN IMMEDIATE`` transaction: it takes the write lock before reading the
summary, so two concurrent writers of one session cannot both read the old summary and lose
each other's events; ``INSERT OR IGNORE`` on the primary key makes a retried event a duplicate.
Each thread gets its own connection (sqlite3 connections are not shared across threads here).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from spotrec_serving.events import Event
from spotrec_serving.session_summary import Enrichment, apply_events, encode_summary
from spotrec_serving.store import ItemStore, StoreError

BUSY_TIMEOUT_SECONDS = 30.0  # writers queue on the lock; a write takes well under 1 ms
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_key TEXT PRIMARY KEY, session_id TEXT NOT NULL, track_id TEXT NOT NULL,
    event TEXT NOT NULL, ts_ms INTEGER NOT NULL, context TEXT NOT NULL, received_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, body TEXT NOT NULL, version INTEGER NOT NULL
);
"""


class SqliteEventStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = self._connection()
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the event store {self.path}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE below).
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints
            self._local.connection = connection
        return connection

    def put_events(
        self, session_id: str, events: Sequence[Event], enrichment: Mapping[str, Enrichment]
    ) -> tuple[int, int]:
        connection = self._connection()
        received = int(time.time() * 1000)
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                written = 0
                for event in events:
                    cursor = connection.execute(
                        "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (
                            event.key,
                            session_id,
                            event.track_id,
                            event.event,
                            event.timestamp,
                            json.dumps(event.context, separators=(",", ":")),
                            received,
                        ),
                    )
                    written += cursor.rowcount
                row = connection.execute(
                    "SELECT body, version FROM sessions WHERE session_id = ?", (session_id,)
                ).fetchone()
                summary, applied = apply_events(
                    json.loads(row[0]) if row else None, list(events), dict(enrichment)
                )
                if applied:
                    connection.execute(
                        "INSERT INTO sessions VALUES (?, ?, 1) ON CONFLICT(session_id) DO UPDATE"
                        " SET body = excluded.body, version = sessions.version + 1",
                        (session_id, encode_summary(summary)),
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write events to {self.path}: {exc}") from exc
        return written, len(events) - written

    def get_summary(self, session_id: str) -> dict | None:
        try:
            row = (
                self._connection()
                .execute("SELECT body FROM sessions WHERE session_id = ?", (session_id,))
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the session from {self.path}: {exc}") from exc
        return json.loads(row[0]) if row else None

    def fetch_with_summary(
        self, item_store: ItemStore, run_id: str, keys: Sequence[str], session_id: str
    ) -> tuple[dict[str, dict[str, Any]], dict | None]:
        # Two local file reads; no network, so nothing to merge.
        return item_store.get_items(run_id, list(keys)), self.get_summary(session_id)

    def iter_events(self) -> Iterator[dict[str, Any]]:
        connection = sqlite3.connect(self.path)  # its own connection: a long read
        try:
            rows = connection.execute(
                "SELECT session_id, track_id, event, ts_ms, event_key FROM events"
                " ORDER BY session_id, ts_ms, event_key"
            )
            for session_id, track_id, event, ts_ms, key in rows:
                yield {
                    "session_id": session_id,
                    "track_id": track_id,
                    "event": event,
                    "timestamp": ts_ms,
                    "key": key,
                }
        finally:
            connection.close()

    def count_events(self) -> int:
        return self._connection().execute("SELECT COUNT(*) FROM events").fetchone()[0]
