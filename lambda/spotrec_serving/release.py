"""The CURRENT release, its META document and its catalogue columns, cached per process.

META and the C# catalogue blocks of a run never change (a run's items are immutable), so they
are cached by run id for as long as the process lives; only the CURRENT pointer has a TTL (in
the store). A warm request therefore costs the store's cached `current_run()` plus its own
`get_items` calls (at most two for a recommendation). A release whose META names an item schema
this code does not read is refused with a 503 (items.check_schema), never misread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from spotrec_serving.catalogue import Catalogue
from spotrec_serving.errors import BadRequest, ServiceUnavailable
from spotrec_serving.items import META_KEY, SchemaError, catalogue_key, check_schema
from spotrec_serving.store import ItemStore, NoReleaseError, StoreError

logger = logging.getLogger(__name__)
_CACHE_SIZE = 8
UNAVAILABLE_MESSAGE = "the recommendation store is unavailable; try again later"
# Keyed by (id(store), run_id); the value keeps the store alive so its id cannot be reused
# by another store while the entry exists.
_meta_cache: OrderedDict[tuple[int, str], tuple[ItemStore, dict]] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Release:
    run_id: str
    meta: dict[str, Any]

    @property
    def models(self) -> list[str]:
        return list(self.meta["models"])

    @property
    def genres(self) -> list[str]:
        return list(self.meta["genres"])

    def resolve_model(self, requested: str | None) -> str:
        if requested is None:
            return self.meta.get("default_model") or self.meta["models"][0]
        if requested not in self.meta["models"]:
            available = ", ".join(self.meta["models"])
            raise BadRequest(f"unknown model {requested[:40]!r}; available: {available}")
        return requested


def fetch_items(store: ItemStore, run_id: str, keys: list[str]) -> dict[str, dict]:
    """store.get_items with store failures turned into a 503."""
    try:
        return store.get_items(run_id, keys)
    except StoreError as exc:
        logger.warning("store failure: %s", exc)  # details go to the log, not to the client
        raise ServiceUnavailable(UNAVAILABLE_MESSAGE) from exc


def current_release(store: ItemStore) -> Release:
    try:
        run_id = store.current_run()
    except NoReleaseError as exc:
        raise ServiceUnavailable("no release has been published yet") from exc
    except StoreError as exc:
        logger.warning("store failure: %s", exc)  # details go to the log, not to the client
        raise ServiceUnavailable(UNAVAILABLE_MESSAGE) from exc
    cache_key = (id(store), run_id)
    with _lock:
        cached = _meta_cache.get(cache_key)
        if cached is not None and cached[0] is store and not _expired(cached[1]):
            _meta_cache.move_to_end(cache_key)
            return Release(run_id, cached[1])
        # (an expired META is read again: `spotrec publish --renew` may have extended the run)
    meta = fetch_items(store, run_id, [META_KEY]).get(META_KEY)
    if not isinstance(meta, dict):
        raise ServiceUnavailable(f"release {run_id} has no META item (incomplete release)")
    try:
        check_schema(meta)
    except SchemaError as exc:
        logger.warning("refusing release: %s", exc)
        raise ServiceUnavailable(str(exc)) from exc
    _check_not_expired(meta)
    with _lock:
        _meta_cache[cache_key] = (store, meta)
        while len(_meta_cache) > _CACHE_SIZE:
            _meta_cache.popitem(last=False)
    return Release(run_id, meta)


def _expired(meta: dict[str, Any]) -> bool:
    expires_at = meta.get("expires_at")
    return expires_at is not None and time.time() >= expires_at


def _check_not_expired(meta: dict[str, Any]) -> None:
    """A DynamoDB release past its TTL may be partly deleted already: refuse it whole."""
    if _expired(meta):
        raise ServiceUnavailable(
            f"release {meta.get('run_id')} has expired (DynamoDB TTL); publish a new release"
        )


class RunCache:
    """Values built once per process and run, the oldest dropped past ``size``. Keyed by
    (id(store), run_id); the entry keeps the store alive so its id cannot be reused by another
    store while the entry exists."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[tuple[int, str], tuple[ItemStore, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: ItemStore, run_id: str) -> Any | None:
        with self._lock:
            cached = self._entries.get((id(store), run_id))
        return cached[1] if cached is not None and cached[0] is store else None

    def put(self, store: ItemStore, run_id: str, value: Any) -> None:
        with self._lock:
            self._entries[(id(store), run_id)] = (store, value)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def fetch_blocks(store: ItemStore, release: Release, keys: list[str], what: str) -> list[bytes]:
    """A run's packed blocks, in ``keys`` order, <= 100 keys a call; all of them or a 503."""
    blocks: dict[str, object] = {}
    for start in range(0, len(keys), 100):
        blocks.update(fetch_items(store, release.run_id, keys[start : start + 100]))
    missing = [k for k in keys if not isinstance(blocks.get(k), bytes)]
    if missing:
        raise ServiceUnavailable(f"release {release.run_id} lacks {what} items {missing[:3]}")
    return [blocks[k] for k in keys]  # type: ignore[misc]


_catalogues = RunCache(2)  # the current run and the one before it (a pointer move in flight)


def release_catalogue(store: ItemStore, release: Release) -> Catalogue:
    """The run's catalogue columns: fetched once per process and run (one get_items of its C#
    blocks, <= 100 of them: 409,600 tracks), then served from memory."""
    catalogue = _catalogues.get(store, release.run_id)
    if catalogue is None:
        keys = [catalogue_key(b) for b in range(int(release.meta["catalogue_blocks"]))]
        blocks = fetch_blocks(store, release, keys, "catalogue")
        catalogue = Catalogue.from_blocks(blocks, release.meta["feature_ranges"])
        _catalogues.put(store, release.run_id, catalogue)
    return catalogue
