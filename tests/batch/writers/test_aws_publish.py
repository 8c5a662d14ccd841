"""spotrec publish against moto's in-process S3 + DynamoDB (mock_aws)."""

from __future__ import annotations

import time
from collections import Counter

import boto3
import pytest
from moto import mock_aws

from aws_support import (
    DUMMY_CREDENTIALS,
    REGION,
    TEMPLATE,
    FailAfter,
    Throttle,
    body_of,
    hand_made_items,
    make_build_dir,
)
from spotrec.errors import SpotrecError
from spotrec.writers import aws, release
from spotrec.writers.build_files import BuildDirError
from spotrec.writers.dynamo_write import PublishError
from spotrec_serving.dynamodb_store import DynamoDBStore

TABLE, BUCKET, TRACKS = "spotrec-test", "spotrec-test-bucket", 30


@pytest.fixture
def target(monkeypatch):
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield aws.Target(
            table=TABLE,
            bucket=BUCKET,
            dynamodb=boto3.client("dynamodb", region_name=REGION),
            s3=boto3.client("s3", region_name=REGION),
            sleep=lambda _: None,
        )


def publish(target, tmp_path, run_id, *, items=None, **kwargs):
    build = make_build_dir(tmp_path / run_id, run_id, TRACKS)
    items = items if items is not None else hand_made_items(run_id, TRACKS)
    return aws.publish(
        build, target, create_missing=True, template_path=TEMPLATE, items=items, **kwargs
    )


def served(target) -> tuple[str, dict]:
    """What a reader sees: the CURRENT run and a few of its documents."""
    store = DynamoDBStore(TABLE, current_ttl_seconds=0, client=target.dynamodb)
    run_id = store.current_run()
    return run_id, store.get_items(run_id, ["META", "T#" + "0" * 22, f"N#cosine#{'0' * 21}7"])


def run_items(target, run_id) -> list[dict]:
    pages = target.dynamodb.get_paginator("scan").paginate(TableName=TABLE)
    return [
        item
        for page in pages
        for item in page["Items"]
        if item["pk"]["S"].startswith(run_id + "#") and not item["pk"]["S"].endswith("#RELEASE")
    ]


def current(target) -> dict:
    item = target.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "CURRENT"}})["Item"]
    return {"run_id": item["run_id"]["S"], "revision": int(item["revision"]["N"]), **body_of(item)}


def test_publish_writes_s3_then_items_then_moves_current(target, tmp_path):
    uploads: list[str] = []
    target.s3.meta.events.register(
        "provide-client-params.s3.*", lambda params, **_: uploads.append(params.get("Key"))
    )

    result = publish(target, tmp_path, "run-a")

    assert result.action == "published" and result.items_written == 1 + 2 * TRACKS
    run_id, docs = served(target)
    assert run_id == "run-a"
    assert docs["META"]["run_id"] == "run-a" and docs["T#" + "0" * 22] == {
        "run": "run-a",
        "track": 0,
    }
    assert len(run_items(target, "run-a")) == 1 + 2 * TRACKS
    keys = [k for k in uploads if k]
    assert keys[-1] == "runs/run-a/part_digests.json"  # after the items (incremental.py)
    assert keys[-2] == "runs/run-a/manifest.json"  # the build's manifest after its files
    assert set(keys) >= {"runs/run-a/tracks.parquet", "runs/run-a/neighbours/cosine.parquet"}
    for key in set(keys):
        head = target.s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == "AES256"


def test_republishing_the_same_run_is_harmless(target, tmp_path):
    publish(target, tmp_path, "run-a")
    before = current(target)

    again = publish(target, tmp_path, "run-a")

    assert again.action == "already-current" and again.uploaded is False
    assert current(target) == before  # pointer untouched
    assert len(run_items(target, "run-a")) == 1 + 2 * TRACKS


def test_a_build_that_does_not_match_its_manifest_is_refused(target, tmp_path):
    build = make_build_dir(tmp_path / "run-a", "run-a", TRACKS)
    (build / "tracks.parquet").write_bytes(b"edited after the build")
    with pytest.raises(BuildDirError, match=r"changed tracks\.parquet"):
        aws.publish(build, target, create_missing=True, template_path=TEMPLATE, items=[])


def test_counts_that_do_not_match_the_manifest_leave_current_alone(target, tmp_path):
    publish(target, tmp_path, "run-a")
    short = list(hand_made_items("run-b", TRACKS))[:-1]  # one neighbour list missing
    with pytest.raises(PublishError, match="29 N#cosine items, expected 30"):
        publish(target, tmp_path, "run-b", items=short)
    assert served(target)[0] == "run-a"


def test_a_publish_that_dies_midway_leaves_the_old_release_served(target, tmp_path):
    publish(target, tmp_path, "run-a")
    failure = FailAfter(target.dynamodb, "BatchWriteItem", n=1)
    target.workers = 1

    with pytest.raises(RuntimeError, match="injected failure"):
        publish(target, tmp_path, "run-b")

    assert failure.calls > failure.n  # the fault struck after a batch had landed
    assert 0 < len(run_items(target, "run-b")) < 1 + 2 * TRACKS  # half written
    run_id, docs = served(target)
    assert run_id == "run-a" and docs["T#" + "0" * 22]["run"] == "run-a"
    failure.n = 10**9  # the fault is gone: rerunning the publish completes it
    assert publish(target, tmp_path, "run-b").action == "published"
    assert served(target)[0] == "run-b"


def test_unprocessed_items_are_retried_until_all_arrive(target, tmp_path):
    throttle = Throttle(target.dynamodb, "BatchWriteItem", defer=5, times=3)
    target.workers = 1

    result = publish(target, tmp_path, "run-a")

    assert throttle.throttled == 3 and result.write_retries == 3
    assert len(run_items(target, "run-a")) == 1 + 2 * TRACKS
    assert served(target)[0] == "run-a"


def test_unprocessed_items_past_the_retry_budget_fail_clearly(target, tmp_path):
    Throttle(target.dynamodb, "BatchWriteItem", defer=30, times=None)
    with pytest.raises(PublishError, match="unprocessed after 10 retries"):
        publish(target, tmp_path, "run-a")
    assert "Item" not in target.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "CURRENT"}})


def registry(target, run_id) -> dict:
    return release.read_registry(target.dynamodb, TABLE, run_id)


def test_every_item_carries_its_ttl_from_the_publish(target, tmp_path):
    result = publish(target, tmp_path, "run-a")
    lifetime = result.expires_at - time.time()
    assert 89 * 86400 < lifetime <= 90 * 86400  # DEFAULT_LIFETIME_DAYS
    assert {int(item["expires_at"]["N"]) for item in run_items(target, "run-a")} == {
        result.expires_at
    }
    state = registry(target, "run-a")
    assert state["state"] == "complete" and state["expires_at"] == result.expires_at
    assert sum(state["parts"]["counts"]) == result.items_written == 1 + 2 * TRACKS


def test_rollback_serves_the_previous_run_and_retires_the_bad_one(target, tmp_path):
    publish(target, tmp_path, "run-a")
    publish(target, tmp_path, "run-b")

    result = aws.rollback(target)

    assert result.run_id == "run-a" and result.expired_runs == ["run-b"]
    assert served(target)[0] == "run-a"
    assert registry(target, "run-b")["state"] == "expired"
    assert registry(target, "run-a")["state"] == "complete"
    with pytest.raises(SpotrecError, match="nothing to roll back to"):
        aws.rollback(target)


class CallCounter:
    def __init__(self, client):
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb.*", self._count)

    def _count(self, model, **_):
        self.calls[model.name] += 1


@pytest.mark.parametrize("tracks", [10, 60])
def test_retiring_a_run_costs_the_same_whatever_its_size(target, tmp_path, tracks):
    def publish_sized(run_id):
        build = make_build_dir(tmp_path / run_id, run_id, tracks)
        items = hand_made_items(run_id, tracks)
        return aws.publish(build, target, create_missing=True, template_path=TEMPLATE, items=items)

    for run_id in ("run-a", "run-b", "run-c"):
        publish_sized(run_id)
    counter = CallCounter(target.dynamodb)
    result = publish_sized("run-d")
    assert result.expired_runs == ["run-a"] and registry(target, "run-a")["state"] == "expired"
    # Not one call per item of run-a: no UpdateItem at all, and the same PutItem count (registry
    # writing + complete, CURRENT, run-a's registry) for a 10- and a 60-track run.
    assert counter.calls["UpdateItem"] == 0 and counter.calls["PutItem"] == 4
    assert counter.calls["BatchWriteItem"] == -(-(1 + 2 * tracks) // 25)


def test_only_the_last_three_runs_are_kept_older_ones_expire(target, tmp_path):
    for run_id in ("run-a", "run-b", "run-c"):
        assert publish(target, tmp_path, run_id).expired_runs == []
    result = publish(target, tmp_path, "run-d")

    assert result.previous == ["run-c", "run-b"] and result.expired_runs == ["run-a"]
    assert current(target)["previous"] == ["run-c", "run-b"]
    assert [registry(target, r)["state"] for r in ("run-a", "run-b", "run-c", "run-d")] == [
        "expired",
        "complete",
        "complete",
        "complete",
    ]


def test_an_item_lost_silently_by_the_write_is_caught_by_the_read_back(target, tmp_path):
    publish(target, tmp_path, "run-a")
    dropped = []

    def drop_one(params, **_):
        requests = params["RequestItems"][TABLE]
        if not dropped and len(requests) > 1:
            dropped.append(requests.pop(1)["PutRequest"]["Item"]["pk"]["S"])

    target.dynamodb.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", drop_one)
    with pytest.raises(PublishError, match="1 of 61 sampled items are missing or differ"):
        publish(target, tmp_path, "run-b")
    assert dropped and served(target)[0] == "run-a"


def test_create_missing_builds_table_and_bucket_from_the_template(target, tmp_path):
    publish(target, tmp_path, "run-a")
    table = target.dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = target.dynamodb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
    block = target.s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert target.s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"


def test_missing_table_without_create_missing_is_a_clear_error(target, tmp_path):
    build = make_build_dir(tmp_path / "run-a", "run-a", TRACKS)
    with pytest.raises(SpotrecError, match="--create-missing"):
        aws.publish(build, target, items=[])


def test_an_item_over_400_kb_is_refused_before_current_moves(target, tmp_path):
    items = list(hand_made_items("run-a", TRACKS))
    items[1] = (items[1][0], {"blob": "x" * 410_000})
    with pytest.raises(PublishError, match="DynamoDB's 400 KB item limit"):
        publish(target, tmp_path, "run-a", items=items)
    assert "Item" not in target.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "CURRENT"}})


def test_renew_rewrites_the_current_run_with_a_fresh_ttl(target, tmp_path):
    first = publish(target, tmp_path, "run-a")
    target.lifetime_days = 120
    renewed = publish(target, tmp_path, "run-a", renew=True)
    assert renewed.action == "published" and renewed.items_written == first.items_written
    assert renewed.expires_at - first.expires_at >= 30 * 86400
    assert {int(item["expires_at"]["N"]) for item in run_items(target, "run-a")} == {
        renewed.expires_at
    }
    run_id, docs = served(target)
    assert run_id == "run-a" and docs["META"]["expires_at"] == renewed.expires_at
    assert current(target)["previous"] == []  # the pointer still names run-a alone
