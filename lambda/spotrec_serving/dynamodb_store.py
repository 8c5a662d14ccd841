"""The production ItemStore: a published release read from DynamoDB (see items.py for the keys).

A request costs at most two round trips:

1. ``current_run()``: a strongly consistent GetItem of the ``CURRENT`` pointer, cached in the
   process for ``current_ttl_seconds`` (default 30, env ``SPOTREC_CURRENT_TTL_SECONDS``). A
   new release or a rollback therefore reaches a warm Lambda within that many seconds; every
   read of a request uses the run id it started with, so a request never mixes two releases.
2. ``get_items()``: one BatchGetItem of up to 100 keys. DynamoDB may return some keys as
   ``UnprocessedKeys`` when throttled; those are retried with capped exponential backoff and
   full jitter, a bounded number of times, then a StoreError says so.

An incrementally published release keeps unchanged items under older run ids; its META holds
the part map saying which run holds which key (parts.py). The store learns a run's map from
the META it reads (the release layer reads META first and caches it), so resolving keys costs
no extra round trip; a key asked for before its run's META costs one GetItem, once per run.

No network at import and no client until the first call, so importing the handler stays cheap.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from spotrec_serving.config import (
    DEFAULT_CURRENT_TTL_SECONDS,
    check_deadline,
    dynamodb_client_config,
)
from spotrec_serving.items import ATTR_BODY, ATTR_PK, ATTR_RUN_ID, CURRENT_KEY, META_KEY
from spotrec_serving.parts import PartMap
from spotrec_serving.store import MAX_KEYS_PER_CALL, NoReleaseError, StoreError

DEFAULT_REGION = "us-east-1"
ENDPOINT_ENV = "SPOTREC_ENDPOINT_URL"
PART_MAP_CACHE = 8  # runs whose part maps are kept (as release.py keeps their META)
MAX_UNPROCESSED_RETRIES = 8  # worst case ~ 0.05+0.1+...+1.0 s of sleeping before giving up
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 1.0


def backoff_delays(
    attempts: int = MAX_UNPROCESSED_RETRIES,
    base: float = BACKOFF_BASE_SECONDS,
    cap: float = BACKOFF_CAP_SECONDS,
) -> Iterator[float]:
    """Capped exponential backoff with full jitter (uniform in [0, min(cap, base * 2**n)])."""
    for attempt in range(attempts):
        yield random.uniform(0, min(cap, base * 2**attempt))


def default_region() -> str:
    """AWS_REGION (set in Lambda), else AWS_DEFAULT_REGION / the profile, else us-east-1."""
    import boto3  # lazy: keeps handler import fast when the SQLite store is used

    return os.environ.get("AWS_REGION") or boto3.session.Session().region_name or DEFAULT_REGION


def make_client(service: str, *, read_timeout: float = 5.0, config: Any = None) -> Any:
    """A boto3 client with standard retries; boto3 itself honours AWS_ENDPOINT_URL.

    SPOTREC_ENDPOINT_URL, when set and non-empty, wins: `sam local invoke` passes a function
    only the variables its template declares, and the template declares this one (empty in
    AWS) so a local run can reach a moto server or DynamoDB Local. ``config`` (a botocore
    Config) replaces the default timeouts; the API's is config.dynamodb_client_config().
    """
    import boto3
    from botocore.config import Config

    config = config or Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=2,
        read_timeout=read_timeout,
    )
    endpoint = os.environ.get(ENDPOINT_ENV, "").strip() or None
    return boto3.client(service, region_name=default_region(), config=config, endpoint_url=endpoint)


class DynamoDBStore:
    """ItemStore over one DynamoDB table holding the items of items.py."""

    def __init__(
        self,
        table_name: str,
        current_ttl_seconds: float = DEFAULT_CURRENT_TTL_SECONDS,
        *,
        client: Any = None,
        max_retries: int = MAX_UNPROCESSED_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not table_name:
            raise ValueError("DynamoDBStore needs a table name (SPOTREC_TABLE)")
        self.table_name = table_name
        self.current_ttl_seconds = float(current_ttl_seconds)
        self._client = client
        self._max_retries = max_retries
        self._sleep = sleep
        self._clock = clock
        self._cached_run: str | None = None
        self._cached_at = 0.0
        self._part_maps: dict[str, PartMap] = {}
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None:
            # The API's time budget (config.py): short timeouts, and no attempt once it is spent.
            client = make_client("dynamodb", config=dynamodb_client_config())
            client.meta.events.register("before-send.dynamodb", check_deadline)
            self._client = client
        return self._client

    def current_run(self) -> str:
        now = self._clock()
        if self._cached_run is not None and now - self._cached_at < self.current_ttl_seconds:
            return self._cached_run
        response = self._call(
            "GetItem",
            self.client.get_item,
            TableName=self.table_name,
            Key={ATTR_PK: {"S": CURRENT_KEY}},
            ProjectionExpression="#r",
            ExpressionAttributeNames={"#r": ATTR_RUN_ID},
            ConsistentRead=True,
        )
        run_id = response.get("Item", {}).get(ATTR_RUN_ID, {}).get("S")
        if not run_id:
            raise NoReleaseError(f"no release published in table {self.table_name} (no CURRENT)")
        self._cached_run, self._cached_at = run_id, now
        return run_id

    def get_items(self, run_id: str, keys: Sequence[str]) -> dict[str, Any]:
        logical_keys = list(dict.fromkeys(keys))  # BatchGetItem refuses duplicate keys
        if len(logical_keys) > MAX_KEYS_PER_CALL:
            raise ValueError(f"get_items takes at most {MAX_KEYS_PER_CALL} keys per call")
        if not logical_keys:
            return {}
        logical_of = self.locate(run_id, logical_keys)
        request = {
            self.table_name: {
                "Keys": [{ATTR_PK: {"S": pk}} for pk in logical_of],
                "ProjectionExpression": "#pk, #body",
                "ExpressionAttributeNames": {"#pk": ATTR_PK, "#body": ATTR_BODY},
            }
        }
        found: dict[str, dict[str, Any]] = {}
        delays = backoff_delays(self._max_retries)
        while True:
            response = self._call("BatchGetItem", self.client.batch_get_item, RequestItems=request)
            for item in response.get("Responses", {}).get(self.table_name, []):
                key = logical_of[item[ATTR_PK]["S"]]
                found[key] = parse_body(item, self.table_name)
                if key == META_KEY and isinstance(found[key], dict):
                    self.learn_parts(run_id, found[key])
            request = response.get("UnprocessedKeys") or {}
            if not request.get(self.table_name, {}).get("Keys"):
                return found
            delay = next(delays, None)
            if delay is None:
                left = len(request[self.table_name]["Keys"])
                raise StoreError(
                    f"DynamoDB kept {left} of {len(logical_keys)} keys unprocessed after "
                    f"{self._max_retries} retries (table {self.table_name} is throttled)"
                )
            self._sleep(delay)

    def locate(self, run_id: str, logical_keys: Sequence[str]) -> dict[str, str]:
        """{physical key: logical key} of one run's keys, through its part map (parts.py)."""
        parts = self._part_maps.get(run_id)
        if parts is None and any(key != META_KEY for key in logical_keys):
            parts = self._read_parts(run_id)
        if parts is None:
            parts = PartMap(run_id)
        return {parts.physical(key): key for key in logical_keys}

    def learn_parts(self, run_id: str, meta: dict[str, Any]) -> None:
        """Keep a run's part map, read from its META (immutable per run)."""
        try:
            parts = PartMap.from_meta(run_id, meta)
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"release {run_id} has a corrupt part map") from exc
        with self._lock:
            self._part_maps[run_id] = parts
            while len(self._part_maps) > PART_MAP_CACHE:
                self._part_maps.pop(next(iter(self._part_maps)))

    def _read_parts(self, run_id: str) -> PartMap | None:
        response = self._call(
            "GetItem",
            self.client.get_item,
            TableName=self.table_name,
            Key={ATTR_PK: {"S": PartMap(run_id).physical(META_KEY)}},
            ProjectionExpression="#body",
            ExpressionAttributeNames={"#body": ATTR_BODY},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None  # no such run: every key is simply absent
        meta = parse_body(item, self.table_name)
        if isinstance(meta, dict):
            self.learn_parts(run_id, meta)
        return self._part_maps.get(run_id)

    def _call(self, operation: str, method: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return method(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "Unknown")
            if code == "ResourceNotFoundException":
                raise StoreError(f"DynamoDB table {self.table_name} not found") from exc
            raise StoreError(f"DynamoDB {operation} on {self.table_name} failed: {code}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"DynamoDB {operation} on {self.table_name} failed: {exc}") from exc


def parse_body(item: dict[str, Any], table_name: str) -> dict[str, Any] | bytes:
    """A JSON document (S attribute) or packed bytes (B attribute), as items.py defines them."""
    try:
        value = item[ATTR_BODY]
        if "B" in value:
            return bytes(value["B"])
        return json.loads(value["S"])
    except (KeyError, ValueError) as exc:
        raise StoreError(f"corrupt item {item.get(ATTR_PK)} in table {table_name}") from exc
