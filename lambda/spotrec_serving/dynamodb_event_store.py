"""EventStore over the DynamoDB events table (template.yaml: EventsTable; see event_store.py).

Items (one table, hash key ``pk``):

- an event: ``pk = "E#<session_id>#<event key>"`` with session_id, track_id, event, ts (epoch
  ms), context (JSON) and ``expires_at`` (TTL). Written with ``attribute_not_exists(pk)``: a
  retry of an event already written fails the condition and is counted as a duplicate.
- the session summary: ``pk = "S#<session_id>"`` with body (session_summary.py), version and
  expires_at. Read-modify-write with a conditional update on ``version`` (optimistic locking):
  a concurrent writer makes the condition fail, and the update is redone on the fresh summary.
  Events the summary already holds are not applied twice, so a retry after a crash between
  the two steps repairs the summary instead of double-counting.

Read path: ``fetch_with_summary`` asks for the release items (items table) and the summary
(events table) in ONE BatchGetItem, which accepts keys of several tables in one call.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from spotrec_serving.dynamodb_store import DynamoDBStore, backoff_delays, make_client, parse_body
from spotrec_serving.events import MAX_EVENTS, Event
from spotrec_serving.items import ATTR_BODY, ATTR_PK
from spotrec_serving.session_summary import Enrichment, apply_events, encode_summary
from spotrec_serving.store import ItemStore, StoreError

DEFAULT_TTL_DAYS = 180
MAX_SUMMARY_ATTEMPTS = 16  # conditional-update retries under contention on one session


def event_pk(session_id: str, key: str) -> str:
    return f"E#{session_id}#{key}"


def summary_pk(session_id: str) -> str:
    return f"S#{session_id}"


class DynamoDBEventStore:
    def __init__(
        self,
        table_name: str,
        *,
        client: Any = None,
        ttl_days: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.table_name = table_name
        self._client = client
        days = ttl_days if ttl_days is not None else os.environ.get("SPOTREC_EVENTS_TTL_DAYS")
        self.ttl_seconds = int(float(days or DEFAULT_TTL_DAYS) * 86400)
        self._sleep = sleep
        self._executor: ThreadPoolExecutor | None = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client("dynamodb")
        return self._client

    def put_events(
        self, session_id: str, events: Sequence[Event], enrichment: Mapping[str, Enrichment]
    ) -> tuple[int, int]:
        from botocore.exceptions import BotoCoreError, ClientError

        expires = str(int(time.time()) + self.ttl_seconds)
        try:
            # The conditional puts are independent: send them at once (boto3 clients are
            # thread-safe), so a batch of 10 costs about one round trip, not ten.
            outcomes = list(self._pool().map(lambda e: self._put(session_id, e, expires), events))
            self._update_summary(session_id, list(events), dict(enrichment), expires)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB write to {self.table_name} failed: {exc}") from exc
        written = sum(outcomes)
        return written, len(events) - written

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=MAX_EVENTS, thread_name_prefix="put")
        return self._executor

    def _put(self, session_id: str, event: Event, expires: str) -> bool:
        """Write one event unless its key exists; True when written, False for a duplicate."""
        from botocore.exceptions import ClientError

        item = {
            ATTR_PK: {"S": event_pk(session_id, event.key)},
            "session_id": {"S": session_id},
            "track_id": {"S": event.track_id},
            "event": {"S": event.event},
            "ts": {"N": str(event.timestamp)},
            "context": {"S": json.dumps(event.context, separators=(",", ":"))},
            "expires_at": {"N": expires},
        }
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": ATTR_PK},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _update_summary(
        self, session_id: str, events: list[Event], enrichment: dict, expires: str
    ) -> None:
        from botocore.exceptions import ClientError

        delays = backoff_delays(MAX_SUMMARY_ATTEMPTS)
        while True:
            found = self.client.get_item(
                TableName=self.table_name,
                Key={ATTR_PK: {"S": summary_pk(session_id)}},
                ConsistentRead=True,
            ).get("Item")
            old = json.loads(found[ATTR_BODY]["S"]) if found else None
            summary, applied = apply_events(old, events, enrichment)
            if not applied:
                return
            version = int(found["version"]["N"]) if found else 0
            body = {"S": encode_summary(summary)}
            try:
                if found is None:  # the session's first summary: a put that must not overwrite
                    self.client.put_item(
                        TableName=self.table_name,
                        Item={
                            ATTR_PK: {"S": summary_pk(session_id)},
                            ATTR_BODY: body,
                            "version": {"N": "1"},
                            "expires_at": {"N": expires},
                        },
                        ConditionExpression="attribute_not_exists(#pk)",
                        ExpressionAttributeNames={"#pk": ATTR_PK},
                    )
                    return
                self.client.update_item(
                    TableName=self.table_name,
                    Key={ATTR_PK: {"S": summary_pk(session_id)}},
                    UpdateExpression="SET #b = :b, #v = :new, #e = :e",
                    ConditionExpression="#v = :old",
                    ExpressionAttributeNames={"#b": ATTR_BODY, "#v": "version", "#e": "expires_at"},
                    ExpressionAttributeValues={
                        ":b": body,
                        ":new": {"N": str(version + 1)},
                        ":old": {"N": str(version)},
                        ":e": {"N": expires},
                    },
                )
                return
            except ClientError as exc:
                if _code(exc) != "ConditionalCheckFailedException":
                    raise
            delay = next(delays, None)
            if delay is None:
                raise StoreError(f"session {session_id} summary kept changing; gave up")
            self._sleep(delay)

    def get_summary(self, session_id: str) -> dict | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = self.client.get_item(
                TableName=self.table_name,
                Key={ATTR_PK: {"S": summary_pk(session_id)}},
                ConsistentRead=True,
            ).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"DynamoDB read of {self.table_name} failed: {exc}") from exc
        return json.loads(found[ATTR_BODY]["S"]) if found else None

    def fetch_with_summary(
        self, item_store: ItemStore, run_id: str, keys: Sequence[str], session_id: str
    ) -> tuple[dict[str, dict[str, Any]], dict | None]:
        if not isinstance(item_store, DynamoDBStore):
            return item_store.get_items(run_id, list(keys)), self.get_summary(session_id)
        from botocore.exceptions import BotoCoreError, ClientError

        items_table = item_store.table_name
        wanted = list(dict.fromkeys(keys))
        logical_of = item_store.locate(run_id, wanted)  # incremental releases: parts.py
        request: dict[str, Any] = {
            self.table_name: {
                "Keys": [{ATTR_PK: {"S": summary_pk(session_id)}}],
                "ConsistentRead": True,  # a skip made a moment ago must count
            }
        }
        if wanted:
            request[items_table] = {"Keys": [{ATTR_PK: {"S": pk}} for pk in logical_of]}
        docs: dict[str, dict[str, Any]] = {}
        summary = None
        delays = backoff_delays()
        try:
            while request:
                response = item_store.client.batch_get_item(RequestItems=request)
                responses = response.get("Responses", {})
                for item in responses.get(items_table, []):
                    docs[logical_of[item[ATTR_PK]["S"]]] = parse_body(item, items_table)
                for item in responses.get(self.table_name, []):
                    summary = json.loads(item[ATTR_BODY]["S"])
                request = response.get("UnprocessedKeys") or {}
                if request:
                    delay = next(delays, None)
                    if delay is None:
                        raise StoreError("DynamoDB kept keys unprocessed (throttled)")
                    self._sleep(delay)
        except (ClientError, BotoCoreError, KeyError, ValueError) as exc:
            raise StoreError(f"DynamoDB BatchGetItem failed: {exc}") from exc
        return docs, summary

    def iter_events(self, segments: int = 4) -> Iterator[dict[str, Any]]:
        """A parallel Scan (Segment / TotalSegments), one thread per segment."""
        with ThreadPoolExecutor(max_workers=segments) as pool:
            parts = pool.map(lambda s: list(self._scan_segment(s, segments)), range(segments))
            for part in parts:
                yield from part

    def _scan_segment(self, segment: int, total: int) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Segment": segment,
            "TotalSegments": total,
            "FilterExpression": "begins_with(#pk, :e)",
            "ExpressionAttributeNames": {"#pk": ATTR_PK},
            "ExpressionAttributeValues": {":e": {"S": "E#"}},
        }
        while True:
            page = self.client.scan(**kwargs)
            for item in page.get("Items", []):
                yield {
                    "session_id": item["session_id"]["S"],
                    "track_id": item["track_id"]["S"],
                    "event": item["event"]["S"],
                    "timestamp": int(item["ts"]["N"]),
                    "key": item[ATTR_PK]["S"].split("#", 2)[2],
                }
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _code(exc: Any) -> str:
    return exc.response.get("Error", {}).get("Code", "")
