"""The CURRENT release and its META document, cached per process.

META of a run never changes (a run's items are immutable), so it is cached by run id for as
long as the process lives; only the CURRENT pointer has a TTL (in the store). A warm request
therefore costs the store's cached `current_run()` plus one `get_items` call.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from spotrec_serving.errors import BadRequest, ServiceUnavailable
from spotrec_serving.items import META_KEY
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
        if cached is not None and cached[0] is store:
            _meta_cache.move_to_end(cache_key)
            return Release(run_id, cached[1])
    meta = fetch_items(store, run_id, [META_KEY]).get(META_KEY)
    if meta is None:
        raise ServiceUnavailable(f"release {run_id} has no META item (incomplete release)")
    with _lock:
        _meta_cache[cache_key] = (store, meta)
        while len(_meta_cache) > _CACHE_SIZE:
            _meta_cache.popitem(last=False)
    return Release(run_id, meta)
