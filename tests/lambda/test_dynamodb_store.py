"""DynamoDBStore against moto's in-process DynamoDB (table built from template.yaml)."""

from __future__ import annotations

import json
import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from aws_support import DUMMY_CREDENTIALS, REGION, Throttle, create_template_table
from spotrec_serving.dynamodb_store import DynamoDBStore, backoff_delays
from spotrec_serving.store import NoReleaseError, StoreError

TABLE = "spotrec-test"


@pytest.fixture
def client(monkeypatch):
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_template_table(ddb, TABLE)
        yield ddb


def put(client, pk: str, body: dict | None = None, run_id: str = "r1") -> None:
    item = {"pk": {"S": pk}, "run_id": {"S": run_id}}
    if body is not None:
        item["body"] = {"S": json.dumps(body)}
    client.put_item(TableName=TABLE, Item=item)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def count_calls(client, operation: str) -> list[int]:
    calls = [0]

    def hook(**_):
        calls[0] += 1

    client.meta.events.register(f"before-call.dynamodb.{operation}", hook)
    return calls


def test_current_run_is_read_consistently_and_cached_for_the_ttl(client):
    put(client, "CURRENT", {"run_id": "r1", "previous": []}, run_id="r1")
    clock = FakeClock()
    gets = count_calls(client, "GetItem")
    store = DynamoDBStore(TABLE, current_ttl_seconds=30, client=client, clock=clock)

    assert store.current_run() == "r1"
    put(client, "CURRENT", {"run_id": "r2", "previous": ["r1"]}, run_id="r2")
    clock.now += 29
    assert store.current_run() == "r1"  # still cached
    clock.now += 2
    assert store.current_run() == "r2"  # TTL passed: read again
    assert gets[0] == 2


def test_no_current_pointer_is_a_no_release_error(client):
    store = DynamoDBStore(TABLE, client=client)
    with pytest.raises(NoReleaseError, match="no release published"):
        store.current_run()


def test_get_items_maps_physical_keys_back_to_logical_keys_in_one_call(client):
    put(client, "r1#T#a", {"v": 1})
    put(client, "r1#N#cosine#a", {"v": 2})
    put(client, "r2#T#a", {"v": 99}, run_id="r2")  # another run: must never leak in
    batch_gets = count_calls(client, "BatchGetItem")
    store = DynamoDBStore(TABLE, client=client)

    found = store.get_items("r1", ["T#a", "N#cosine#a", "T#missing", "T#a"])

    assert found == {"T#a": {"v": 1}, "N#cosine#a": {"v": 2}}
    assert batch_gets[0] == 1
    assert store.get_items("r1", []) == {}


def test_more_than_100_keys_is_refused(client):
    store = DynamoDBStore(TABLE, client=client)
    with pytest.raises(ValueError, match="at most 100"):
        store.get_items("r1", [f"T#{i}" for i in range(101)])


def test_unprocessed_keys_are_retried_until_every_key_arrives(client):
    keys = [f"T#{i:03d}" for i in range(100)]
    for key in keys:
        put(client, f"r1#{key}", {"key": key})
    throttle = Throttle(client, "BatchGetItem", defer=40, times=2)
    sleeps: list[float] = []
    store = DynamoDBStore(TABLE, client=client, sleep=sleeps.append)

    found = store.get_items("r1", keys)

    assert found == {key: {"key": key} for key in keys}
    assert throttle.calls == 3 and throttle.throttled == 2
    assert len(sleeps) == 2


def test_unprocessed_keys_past_the_retry_budget_raise_a_store_error(client):
    put(client, "r1#T#a", {"v": 1})
    put(client, "r1#T#b", {"v": 2})
    Throttle(client, "BatchGetItem", defer=1, times=None)
    store = DynamoDBStore(TABLE, client=client, max_retries=3, sleep=lambda _: None)
    with pytest.raises(StoreError, match="unprocessed after 3 retries"):
        store.get_items("r1", ["T#a", "T#b"])


def test_missing_table_and_corrupt_bodies_are_store_errors(client):
    with pytest.raises(StoreError, match="not found"):
        DynamoDBStore("no-such-table", client=client).current_run()
    put(client, "r1#T#bad")  # no body attribute
    with pytest.raises(StoreError, match="corrupt item"):
        DynamoDBStore(TABLE, client=client).get_items("r1", ["T#bad"])


def test_backoff_is_capped_exponential_with_jitter():
    delays = list(backoff_delays(attempts=10, base=0.05, cap=1.0))
    assert len(delays) == 10
    assert all(0 <= d <= min(1.0, 0.05 * 2**n) for n, d in enumerate(delays))


def test_spotrec_endpoint_url_points_the_client_at_a_local_endpoint(monkeypatch):
    from spotrec_serving.dynamodb_store import make_client

    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("SPOTREC_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert make_client("dynamodb").meta.endpoint_url == "http://127.0.0.1:4566"
    monkeypatch.setenv("SPOTREC_ENDPOINT_URL", "")  # the deployed value: standard resolution
    assert make_client("dynamodb").meta.endpoint_url == "https://dynamodb.us-east-1.amazonaws.com"


def test_import_and_construction_make_no_client():
    code = (
        "import sys; from spotrec_serving.dynamodb_store import DynamoDBStore; "
        "s = DynamoDBStore('t'); assert s._client is None; "
        "print('boto3' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_the_same_release_answers_identically_from_dynamodb_and_sqlite(client, store_file):
    """The fixture release written to both stores by the batch writers: packed (B) and JSON (S)
    bodies come back byte-identical, so every answer is the same."""
    from lambda_fixtures import RUN_ID, A, B, C, D, release_items

    from spotrec.writers.dynamo_write import to_dynamo_item, write_items
    from spotrec_serving.recommend import RecommendationRequest, recommend
    from spotrec_serving.search import search_tracks
    from spotrec_serving.sqlite_store import SqliteStore

    items = [to_dynamo_item(RUN_ID, key, body, 2**31) for key, body in release_items()]
    assert {"B", "S"} <= {next(iter(item["body"])) for item in items}
    write_items(client, TABLE, items, workers=1)
    put(client, "CURRENT", {"run_id": RUN_ID, "previous": []}, run_id=RUN_ID)
    stores = [DynamoDBStore(TABLE, client=client), SqliteStore(store_file)]
    requests = [
        RecommendationRequest(seed_tracks=(A, B), limit=5),
        RecommendationRequest(seed_tracks=(A, C), seed_genres=("rock",), per_seed=2),
        RecommendationRequest(seed_genres=("pop",), model="blend"),
    ]
    answers = [
        [recommend(store, "http://x", request) for request in requests]
        + [search_tracks(store, "http://x", q, q.split(), 20, 0) for q in ("be", "hello good")]
        for store in stores
    ]
    assert answers[0] == answers[1]
    assert [t["id"] for t in answers[0][0]["tracks"]][:2] == [C, D]  # as test_recommend
