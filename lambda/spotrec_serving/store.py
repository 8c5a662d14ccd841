"""The one small read interface over a published release, and its errors.

Two implementations: ``sqlite_store.SqliteStore`` (the embedded store, a build's store.sqlite)
and ``dynamodb_store.DynamoDBStore`` (production). Both hold the items of ``items.py``.
Business code takes an ``ItemStore`` as an argument and never knows which one it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

MAX_KEYS_PER_CALL = 100  # DynamoDB BatchGetItem's limit; SQLite honours it too, for parity


class StoreError(Exception):
    """The store could not answer (unreachable, throttled past retries, corrupt)."""


class NoReleaseError(StoreError):
    """No CURRENT release has been published yet."""


class ItemStore(Protocol):
    def current_run(self) -> str:
        """The run id of the CURRENT release. May be cached for a short, documented TTL."""
        ...

    def get_items(self, run_id: str, keys: Sequence[str]) -> dict[str, Any]:
        """Documents for up to MAX_KEYS_PER_CALL logical keys of one run, in one round trip:
        a dict for a JSON item, bytes for a packed one (items.py says which keys are which).

        Missing keys are simply absent from the result (an unknown track is not an error here).
        """
        ...
