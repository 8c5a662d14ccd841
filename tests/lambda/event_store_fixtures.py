"""Both event stores over the tiny hand-made release (lambda_fixtures.py): SQLite files, and
DynamoDB (moto in-process) with the items and events tables built from template.yaml."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lambda_fixtures import RUN_ID, release_items

from aws_support import DUMMY_CREDENTIALS, REGION, create_events_table, create_template_table

ITEMS_TABLE, EVENTS_TABLE = "spotrec-items", "spotrec-events"
FAR_FUTURE = 4_102_444_800  # 2100-01-01: the TTL attribute publish writes with every item


def load_release(client, table: str = ITEMS_TABLE) -> None:
    from spotrec.writers.dynamo_write import to_dynamo_item

    for logical, body in release_items():  # packed lists as B, JSON as S, as publish writes
        client.put_item(TableName=table, Item=to_dynamo_item(RUN_ID, logical, body, FAR_FUTURE))
    current = {"pk": {"S": "CURRENT"}, "run_id": {"S": RUN_ID}}
    client.put_item(TableName=table, Item=current | {"body": {"S": json.dumps({"run_id": RUN_ID})}})


@contextmanager
def stores(kind: str, store_file: Path, tmp_path: Path, monkeypatch) -> Iterator[tuple]:
    """(item store, event store, boto3 client or None) of one kind: "sqlite", "dynamodb" (moto
    in-process) or "dynamodb-http" (a moto server on 127.0.0.1: real concurrent requests; the
    in-process mock is not thread-safe, so concurrency tests use the server)."""
    if kind == "sqlite":
        from spotrec_serving.sqlite_event_store import SqliteEventStore
        from spotrec_serving.sqlite_store import SqliteStore

        yield SqliteStore(store_file), SqliteEventStore(tmp_path / "events.sqlite"), None
        return
    import boto3
    from moto import mock_aws

    from spotrec_serving.dynamodb_event_store import DynamoDBEventStore
    from spotrec_serving.dynamodb_store import DynamoDBStore

    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    if kind == "dynamodb":
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    from aws_support import moto_server

    with moto_server() if kind == "dynamodb-http" else mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_template_table(client, ITEMS_TABLE)
        create_events_table(client, EVENTS_TABLE)
        load_release(client)
        yield (
            DynamoDBStore(ITEMS_TABLE, client=client),
            DynamoDBEventStore(EVENTS_TABLE, client=client, sleep=lambda _: None),
            client,
        )
