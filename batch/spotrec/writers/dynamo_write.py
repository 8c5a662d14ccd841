"""Low-level DynamoDB writes of one run: batch writes with retries, counting, TTL expiry.

Each data item carries, beside items.py's attributes, ``run_part = "<run_id>#NN"`` (NN =
crc32(pk) mod RUN_PARTS). The table's only GSI, ``run_part-index`` (KEYS_ONLY), is keyed on
it. That lets the publisher count a run's items (verification) and list them (TTL expiry)
with Queries that touch that run alone, never a Scan of the table. Spreading one run over 16
GSI partition keys keeps the index from becoming one hot partition that would throttle the
publish (one GSI partition key value absorbs about 1,000 writes/s).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from itertools import islice
from typing import Any

from spotrec.errors import SpotrecError
from spotrec.writers.items import ItemSizeError, encode_body
from spotrec_serving.dynamodb_store import backoff_delays
from spotrec_serving.items import ATTR_BODY, ATTR_PK, ATTR_RUN_ID, ATTR_TTL, physical_key

log = logging.getLogger(__name__)

ATTR_RUN_PART = "run_part"
RUN_PARTS = 16
BATCH_WRITE_LIMIT = 25  # DynamoDB's BatchWriteItem maximum
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item size limit (names + values, UTF-8)
MAX_WRITE_RETRIES = 10  # unprocessed-item retries per batch, backoff capped at 2 s
WRITE_BACKOFF_CAP_SECONDS = 2.0


class PublishError(SpotrecError):
    """The publish could not complete; CURRENT was not moved."""


def run_part(run_id: str, pk: str) -> str:
    return f"{run_id}#{zlib.crc32(pk.encode()) % RUN_PARTS:02d}"


def item_size(item: dict[str, dict[str, str]]) -> int:
    """DynamoDB's accounting: attribute name bytes + value bytes (numbers approximated)."""
    size = 0
    for name, value in item.items():
        (content,) = value.values()
        size += len(name.encode()) + len(str(content).encode())
    return size


def to_dynamo_item(run_id: str, logical_key: str, body: dict[str, Any]) -> dict[str, Any]:
    """The wire item for one logical item of a run; refuses items over 400 KB."""
    pk = physical_key(run_id, logical_key)
    try:
        text = encode_body(logical_key, body)  # the same JSON text as the SQLite store holds
    except ItemSizeError as exc:
        raise PublishError(f"{exc}: too close to DynamoDB's 400 KB item limit") from exc
    item = {
        ATTR_PK: {"S": pk},
        ATTR_RUN_ID: {"S": run_id},
        ATTR_RUN_PART: {"S": run_part(run_id, pk)},
        ATTR_BODY: {"S": text},
    }
    size = item_size(item)
    if size >= MAX_ITEM_BYTES:
        raise PublishError(
            f"item {logical_key} is {size} bytes, over DynamoDB's 400 KB item limit; "
            "lower --top-n or the search cap and rebuild"
        )
    return item


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
) -> tuple[int, int]:
    """Write every item in batches of 25 on ``workers`` threads; returns (items, retries).

    At most 2 batches per worker are in flight, so memory stays bounded on any catalogue. The
    first failure stops the publish (remaining batches are cancelled) and is re-raised.
    """
    import time

    sleep = sleep or time.sleep
    written = retries = 0
    pending: dict[Future[int], int] = {}

    def collect(done: set[Future[int]]) -> None:
        nonlocal written, retries
        for future in done:
            count = pending.pop(future)
            retries += future.result()  # re-raises the batch's error
            written += count

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ddb-write") as pool:
        try:
            for batch in _chunks(items, BATCH_WRITE_LIMIT):
                if len(pending) >= 2 * workers:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    collect(done)
                pending[pool.submit(write_batch, client, table, batch, sleep)] = len(batch)
            done, _ = wait(pending, return_when=FIRST_EXCEPTION)
            collect(done)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return written, retries


def _query_part(client: Any, table: str, index: str, part: str, **extra: Any) -> Iterator[dict]:
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "#part = :part",
        "ExpressionAttributeNames": {"#part": ATTR_RUN_PART},
        "ExpressionAttributeValues": {":part": {"S": part}},
        **extra,
    }
    while True:
        page = client.query(**kwargs)
        yield page
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count_run_items(client: Any, table: str, index: str, run_id: str) -> int:
    """Items of one run, counted on the GSI (Select=COUNT: no item data is returned)."""
    total = 0
    for part_number in range(RUN_PARTS):
        part = f"{run_id}#{part_number:02d}"
        for page in _query_part(client, table, index, part, Select="COUNT"):
            total += page["Count"]
    return total


def run_keys(client: Any, table: str, index: str, run_id: str) -> Iterator[str]:
    for part_number in range(RUN_PARTS):
        part = f"{run_id}#{part_number:02d}"
        for page in _query_part(client, table, index, part):
            for item in page.get("Items", []):
                yield item[ATTR_PK]["S"]


def set_expiry(client: Any, table: str, pk: str, expires_at: int) -> None:
    """Stamp one item with the TTL attribute (never creates an item that is already gone)."""
    from botocore.exceptions import ClientError

    try:
        client.update_item(
            TableName=table,
            Key={ATTR_PK: {"S": pk}},
            UpdateExpression="SET #ttl = :t",
            ConditionExpression="attribute_exists(#pk)",
            ExpressionAttributeNames={"#ttl": ATTR_TTL, "#pk": ATTR_PK},
            ExpressionAttributeValues={":t": {"N": str(expires_at)}},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


def expire_run(
    client: Any, table: str, index: str, run_id: str, expires_at: int, *, workers: int = 8
) -> int:
    """Give every item of a run the TTL attribute; DynamoDB deletes them for free later.

    UpdateItem has no batch form, so the updates run on a thread pool, 1,000 keys at a time
    (bounded memory on a run of any size).
    """
    stamped = 0
    keys = run_keys(client, table, index, run_id)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ddb-expire") as pool:
        while chunk := list(islice(keys, 1000)):
            list(pool.map(lambda pk: set_expiry(client, table, pk, expires_at), chunk))
            stamped += len(chunk)
    log.info("run %s: %d items set to expire at %d", run_id, stamped, expires_at)
    return stamped
