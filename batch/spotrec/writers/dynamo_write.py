"""Low-level DynamoDB writes of one run: batch writes with retries, per-part tallies, read-back.

Every data item is written with its TTL (``expires_at`` = publish time + the run lifetime), so
retiring a run later costs nothing per item: DynamoDB deletes the items for free once the
lifetime is over (see aws.py and docs/aws.md). The writer tallies the items it wrote per part
(``part`` = crc32(pk) mod RUN_PARTS) with an order-independent digest of their bodies; the
publisher stores the tallies in the run's registry and checks a random sample of items by
reading them back, instead of counting the run on a GSI page by page.
"""

from __future__ import annotations

import hashlib
import logging
import random
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import Any

from spotrec.errors import SpotrecError
from spotrec.writers.items import ItemSizeError, encode_body
from spotrec_serving.dynamodb_store import backoff_delays
from spotrec_serving.items import ATTR_BODY, ATTR_PK, ATTR_RUN_ID, ATTR_TTL, physical_key
from spotrec_serving.store import MAX_KEYS_PER_CALL

log = logging.getLogger(__name__)

RUN_PARTS = 16
BATCH_WRITE_LIMIT = 25  # DynamoDB's BatchWriteItem maximum
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit (names + values, UTF-8)
MAX_WRITE_RETRIES = 10  # unprocessed-item retries per batch, backoff capped at 2 s
WRITE_BACKOFF_CAP_SECONDS = 2.0


class PublishError(SpotrecError):
    """The publish could not complete; CURRENT was not moved."""


def part_of(pk: str) -> int:
    return zlib.crc32(pk.encode()) % RUN_PARTS


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """DynamoDB's accounting: attribute name bytes + value bytes (numbers approximated)."""
    size = 0
    for name, value in item.items():
        (content,) = value.values()
        raw = content if isinstance(content, bytes) else str(content).encode()
        size += len(name.encode()) + len(raw)
    return size


def body_digest(stored: str | bytes) -> bytes:
    raw = stored if isinstance(stored, bytes) else stored.encode()
    return hashlib.blake2b(raw, digest_size=8).digest()


def to_dynamo_item(
    run_id: str, logical_key: str, body: dict[str, Any] | bytes, expires_at: int
) -> dict[str, Any]:
    """The wire item for one logical item of a run; refuses items over 400 KB."""
    pk = physical_key(run_id, logical_key)
    try:
        stored = encode_body(logical_key, body)  # the same text/bytes as the SQLite store holds
    except ItemSizeError as exc:
        raise PublishError(f"{exc}: too close to DynamoDB's 400 KB item limit") from exc
    item = {
        ATTR_PK: {"S": pk},
        ATTR_RUN_ID: {"S": run_id},
        ATTR_BODY: {"B": stored} if isinstance(stored, bytes) else {"S": stored},
        ATTR_TTL: {"N": str(expires_at)},
    }
    size = item_size(item)
    if size >= MAX_ITEM_BYTES:
        raise PublishError(
            f"item {logical_key} is {size} bytes, over DynamoDB's 400 KB item limit; "
            "lower --top-n or the search cap and rebuild"
        )
    return item


class PartTally:
    """Items and an order-independent digest (sum of 64-bit body hashes) per part."""

    def __init__(self) -> None:
        self.counts = [0] * RUN_PARTS
        self.sums = [0] * RUN_PARTS
        self.bytes = 0

    def add(self, item: dict[str, Any]) -> None:
        part = part_of(item[ATTR_PK]["S"])
        (stored,) = item[ATTR_BODY].values()
        self.counts[part] += 1
        self.sums[part] = (self.sums[part] + int.from_bytes(body_digest(stored))) % 2**64
        self.bytes += item_size(item)

    def as_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "digests": [f"{s:016x}" for s in self.sums]}


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def write_batch(
    client: Any, table: str, batch: list[dict[str, Any]], sleep: Callable[[float], None]
) -> int:
    """One BatchWriteItem of <= 25 items, retrying UnprocessedItems; returns retries used."""
    request = {table: [{"PutRequest": {"Item": item}} for item in batch]}
    delays = backoff_delays(MAX_WRITE_RETRIES, cap=WRITE_BACKOFF_CAP_SECONDS)
    retries = 0
    while True:
        response = client.batch_write_item(RequestItems=request)
        request = response.get("UnprocessedItems") or {}
        if not request.get(table):
            return retries
        delay = next(delays, None)
        if delay is None:
            raise PublishError(
                f"DynamoDB left {len(request[table])} items unprocessed after "
                f"{MAX_WRITE_RETRIES} retries with backoff (table {table} is throttled); "
                "CURRENT was not moved, rerun the publish (it is idempotent)"
            )
        retries += 1
        sleep(delay)


def write_items(
    client: Any,
    table: str,
    items: Iterable[dict[str, Any]],
    *,
    workers: int = 4,
    sleep: Callable[[float], None] | None = None,
    on_written: Callable[[list[dict[str, Any]]], None] | None = None,
) -> tuple[int, int]:
    """Write every item in batches of 25 on ``workers`` threads; returns (items, retries).
    ``on_written(batch)`` runs (on this thread) for each batch DynamoDB acknowledged in full.

    At most 2 batches per worker are in flight, so memory stays bounded on any catalogue. The
    first failure stops the publish (remaining batches are cancelled) and is re-raised.
    """
    import time

    sleep = sleep or time.sleep
    written = retries = 0
    pending: dict[Future[int], list[dict[str, Any]]] = {}

    def collect(done: set[Future[int]]) -> None:
        nonlocal written, retries
        for future in done:
            batch = pending.pop(future)
            retries += future.result()  # re-raises the batch's error
            written += len(batch)
            if on_written is not None:
                on_written(batch)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ddb-write") as pool:
        try:
            for batch in _chunks(items, BATCH_WRITE_LIMIT):
                if len(pending) >= 2 * workers:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    collect(done)
                pending[pool.submit(write_batch, client, table, batch, sleep)] = batch
            done, _ = wait(pending, return_when=FIRST_EXCEPTION)
            collect(done)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return written, retries


def read_back(
    client: Any, table: str, expected: dict[str, bytes], sleep: Callable[[float], None]
) -> list[str]:
    """Strongly consistent reads of the sampled items ({pk: body digest}); returns the pks
    whose item is missing or differs (empty = all good). <= 100 keys per BatchGetItem."""
    from spotrec_serving.dynamodb_store import backoff_delays

    bad: list[str] = []
    keys = sorted(expected)
    for start in range(0, len(keys), MAX_KEYS_PER_CALL):
        chunk = keys[start : start + MAX_KEYS_PER_CALL]
        request = {table: {"Keys": [{ATTR_PK: {"S": pk}} for pk in chunk], "ConsistentRead": True}}
        seen: dict[str, bytes] = {}
        delays = backoff_delays(MAX_WRITE_RETRIES, cap=WRITE_BACKOFF_CAP_SECONDS)
        while request.get(table, {}).get("Keys"):
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                (stored,) = item[ATTR_BODY].values()
                seen[item[ATTR_PK]["S"]] = body_digest(stored)
            request = response.get("UnprocessedKeys") or {}
            if request.get(table, {}).get("Keys"):
                delay = next(delays, None)
                if delay is None:
                    raise PublishError(f"read-back of {table} stayed throttled; CURRENT not moved")
                sleep(delay)
        bad.extend(pk for pk in chunk if seen.get(pk) != expected[pk])
    return bad


class Sampler:
    """A uniform random sample of `size` items from a stream of unknown length (reservoir)."""

    def __init__(self, size: int, seed: int | None = None):
        self.size, self.seen = size, 0
        self.sample: dict[str, bytes] = {}
        self._keys: list[str] = []
        self._random = random.Random(seed)

    def offer(self, item: dict[str, Any]) -> None:
        pk = item[ATTR_PK]["S"]
        (stored,) = item[ATTR_BODY].values()
        self.seen += 1
        if len(self._keys) < self.size:
            self._keys.append(pk)
        else:
            slot = self._random.randrange(self.seen)
            if slot >= self.size:
                return
            del self.sample[self._keys[slot]]
            self._keys[slot] = pk
        self.sample[pk] = body_digest(stored)
