"""Session reactions move planted tastes in the right direction (tests/session_world.py):
3 likes inside one taste raise its share of the next top-20; 3 skips of one genre lower it.
On both stores (SQLite files; DynamoDB in moto). The sizes of the shifts are benchmarks'."""

from __future__ import annotations

import pytest

import session_world
from spotrec.writers.sqlite import write_store


@pytest.fixture(scope="module")
def world_store(tmp_path_factory):
    return write_store(tmp_path_factory.mktemp("world"), list(session_world.release_items()))


@pytest.mark.parametrize("kind", ["sqlite", "dynamodb"])
def test_likes_raise_and_skips_lower_a_planted_taste(kind, world_store, tmp_path, monkeypatch):
    if kind == "sqlite":
        from spotrec_serving.sqlite_event_store import SqliteEventStore
        from spotrec_serving.sqlite_store import SqliteStore

        figures = session_world.measure(
            SqliteStore(world_store), SqliteEventStore(tmp_path / "e.sqlite"), n_listeners=40
        )
    else:
        import boto3
        from event_store_fixtures import EVENTS_TABLE, ITEMS_TABLE
        from moto import mock_aws

        from aws_support import (
            DUMMY_CREDENTIALS,
            REGION,
            create_events_table,
            create_template_table,
        )
        from spotrec_serving.dynamodb_event_store import DynamoDBEventStore
        from spotrec_serving.dynamodb_store import DynamoDBStore

        for name, value in DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            create_template_table(client, ITEMS_TABLE)
            create_events_table(client, EVENTS_TABLE)
            from spotrec.writers.dynamo_write import to_dynamo_item

            for logical, body in session_world.release_items():
                item = to_dynamo_item(session_world.RUN_ID, logical, body, 4_102_444_800)
                client.put_item(TableName=ITEMS_TABLE, Item=item)
            client.put_item(
                TableName=ITEMS_TABLE,
                Item={"pk": {"S": "CURRENT"}, "run_id": {"S": session_world.RUN_ID}},
            )
            figures = session_world.measure(
                DynamoDBStore(ITEMS_TABLE, client=client),
                DynamoDBEventStore(EVENTS_TABLE, client=client),
                n_listeners=6,
            )
    assert figures["like_after"] > figures["like_before"], figures
    assert figures["skip_after"] < figures["skip_before"], figures
    if kind == "sqlite":  # enough listeners to look past the mean: most move the planted way
        assert figures["like_up"] > 0.6 and figures["skip_down"] > 0.8, figures
