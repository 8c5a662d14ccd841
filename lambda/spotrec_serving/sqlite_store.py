"""ItemStore over a build's store.sqlite (the embedded store; see DEVELOPERS.md).

The connection is opened read-only once and reused across warm invocations. The batch writer
replaces the file atomically (os.replace), which gives it a new inode; an open connection keeps
reading the old, complete file. So the inode is checked only when the cached CURRENT pointer
expires: then a replaced file is reopened and its CURRENT read. The connection a run was read
from is remembered, so a request holding the previous run id still reads a consistent release.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from spotrec_serving.config import DEFAULT_CURRENT_TTL_SECONDS
from spotrec_serving.items import CURRENT_KEY, physical_key
from spotrec_serving.store import MAX_KEYS_PER_CALL, NoReleaseError, StoreError

STORE_FILE = "store.sqlite"


def resolve_store_path(path: str | os.PathLike) -> Path:
    """A build directory or a store.sqlite file -> the store file."""
    candidate = Path(path)
    return candidate / STORE_FILE if candidate.is_dir() else candidate


class SqliteStore:
    def __init__(
        self,
        path: str | os.PathLike,
        current_ttl_seconds: float = DEFAULT_CURRENT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.path = resolve_store_path(path)
        self.current_ttl_seconds = current_ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()  # `spotrec serve` may call from several threads
        self._inode: tuple[int, int] | None = None
        self._connection: sqlite3.Connection | None = None
        self._run_connections: dict[str, sqlite3.Connection] = {}  # current and previous run
        self._current: str | None = None
        self._current_read_at = float("-inf")

    def _open_if_replaced(self) -> sqlite3.Connection:
        try:
            stat = os.stat(self.path)
        except OSError as exc:
            raise StoreError(f"store file {self.path} is not readable: {exc}") from exc
        inode = (stat.st_dev, stat.st_ino)
        if self._connection is None or inode != self._inode:
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
            try:
                self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open store {self.path}: {exc}") from exc
            self._inode = inode
        return self._connection

    def current_run(self) -> str:
        with self._lock:
            now = self._clock()
            if self._current is not None and now - self._current_read_at < self.current_ttl_seconds:
                return self._current
            connection = self._open_if_replaced()
            try:
                row = connection.execute(
                    "SELECT body FROM items WHERE pk = ?", (CURRENT_KEY,)
                ).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read CURRENT from {self.path}: {exc}") from exc
            if row is None:
                raise NoReleaseError(f"store {self.path} has no CURRENT release")
            run_id = json.loads(row[0])["run_id"]
            self._remember(run_id, connection)
            self._current, self._current_read_at = run_id, now
            return run_id

    def _remember(self, run_id: str, connection: sqlite3.Connection) -> None:
        self._run_connections[run_id] = connection
        if self._current is not None and self._current != run_id:
            keep = {run_id, self._current}
            self._run_connections = {r: c for r, c in self._run_connections.items() if r in keep}

    def get_items(self, run_id: str, keys: Sequence[str]) -> dict[str, Any]:
        if len(keys) > MAX_KEYS_PER_CALL:
            raise ValueError(f"get_items takes at most {MAX_KEYS_PER_CALL} keys, got {len(keys)}")
        if not keys:
            return {}
        prefix = physical_key(run_id, "")
        physical = [prefix + key for key in keys]
        placeholders = ",".join("?" * len(physical))
        with self._lock:
            connection = self._run_connections.get(run_id) or self._open_if_replaced()
            try:
                rows = connection.execute(
                    f"SELECT pk, body FROM items WHERE pk IN ({placeholders})", physical
                ).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read items from {self.path}: {exc}") from exc
        return {pk[len(prefix) :]: decode_body(body) for pk, body in rows}


def decode_body(body: str | bytes) -> dict[str, Any] | bytes:
    """A JSON document (TEXT) or packed bytes (BLOB), as items.py defines them."""
    return body if isinstance(body, bytes) else json.loads(body)
