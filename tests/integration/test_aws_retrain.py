"""The retrain container's stages (infra/retrain.py) as the state machine runs them, against a
moto server: train -> 3 neighbour shards, each in its own work dir like separate Fargate tasks
-> publish. The published release must equal an unsharded local build of the same input. A
second retrain carries the current release's feature scaler (--previous) like a local build."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import boto3
import pytest

from aws_support import REGION, TEMPLATE, moto_server
from incremental_support import expected_writes, grown_catalogues, stored_keys
from spotrec.writers import stack_template
from spotrec_serving.dynamodb_store import DynamoDBStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
RETRAIN = REPO_ROOT / "infra" / "retrain.py"
BIN = Path(sys.executable).parent
BUCKET, TABLE, SHARDS = "spotrec-retrain", "spotrec-retrain", 3


def retrain(stage: str, work: Path, **extra: str) -> None:
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",  # the `spotrec` command
        "SPOTREC_WORK": str(work),
        "SPOTREC_BUCKET": BUCKET,
        "SPOTREC_TABLE": TABLE,
        "SPOTREC_RETRAIN_ID": "execution-1",
        "SPOTREC_NUM_SHARDS": str(SHARDS),
        "SPOTREC_MODELS": "cosine",
        "SPOTREC_DATA_URI": f"s3://{BUCKET}/input/catalogue.csv",
        **extra,
    }
    result = subprocess.run(
        [sys.executable, str(RETRAIN), stage], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]


def stack(table: str, bucket: str, catalogue: Path):
    """The template's table and bucket on the moto server, the catalogue at input/catalogue.csv
    (SPOTREC_DATA_URI); returns the (dynamodb, s3) clients."""
    template = stack_template.load_template(TEMPLATE)
    ddb, s3 = boto3.client("dynamodb", region_name=REGION), boto3.client("s3")
    stack_template.create_table(ddb, template, table)
    stack_template.create_bucket(s3, template, bucket, REGION)
    s3.upload_file(str(catalogue), bucket, "input/catalogue.csv")
    return ddb, s3


def sqlite_neighbour_lists(store: Path) -> dict[str, bytes]:
    """The packed N# lists (items.py), byte for byte."""
    with sqlite3.connect(store) as connection:
        rows = connection.execute("SELECT pk, body FROM items WHERE pk LIKE '%#N#cosine#%'")
        return {pk.split("#", 1)[1]: body for pk, body in rows}


def test_staged_sharded_retrain_publishes_the_unsharded_result(tmp_path):
    csv = tmp_path / "catalogue.csv"
    subprocess.run(
        [str(BIN / "spotrec"), "data", "synth", "--out", str(csv), "--tracks", "300"], check=True
    )
    local = tmp_path / "local"
    build = ["build", "--data", str(csv), "--out", str(local), "--models", "cosine"]
    subprocess.run([str(BIN / "spotrec"), *build], check=True, capture_output=True)
    expected = sqlite_neighbour_lists(local / "store.sqlite")

    with moto_server():
        ddb, s3 = stack(TABLE, BUCKET, csv)

        retrain("train", tmp_path / "train")
        for shard in range(SHARDS):  # separate work dirs: nothing shared but S3
            retrain("neighbours", tmp_path / f"shard{shard}", AWS_BATCH_JOB_ARRAY_INDEX=str(shard))
        retrain("publish", tmp_path / "publish")

        store = DynamoDBStore(TABLE, client=ddb)
        run_id = store.current_run()
        keys = sorted(expected)
        published = {}
        for start in range(0, len(keys), 100):
            published.update(store.get_items(run_id, keys[start : start + 100]))
        listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"runs/{run_id}/")
        uploaded = {obj["Key"].split("/", 2)[2] for obj in listing["Contents"]}

    assert len(expected) == 300
    assert published == expected  # 3 shards merged == one unsharded build, list for list
    assert {"manifest.json", "tracks.parquet", "neighbours/cosine.parquet"} <= uploaded


def scaler_of(model_dir: Path) -> dict:
    return json.loads((model_dir / "cosine.json").read_text())["scaler"]


def test_scheduled_retrain_keeps_the_current_scaler_and_writes_only_changes(tmp_path):
    """Issue 10 §4: the retrain fetches the current release's models/cosine/ from S3 (the
    publish uploaded it) and builds with --previous, as a local `spotrec build --previous`
    does: on a catalogue changed by ~1% the scaler is the published one and the incremental
    publish writes only the parts that changed."""
    base, grown = grown_catalogues(tmp_path)
    first, second = tmp_path / "first", tmp_path / "second"
    table = bucket = "spotrec-scaler"  # the moto server may outlive the test above: own names
    names = {
        "SPOTREC_TABLE": table,
        "SPOTREC_BUCKET": bucket,
        "SPOTREC_DATA_URI": f"s3://{bucket}/input/catalogue.csv",
    }
    with moto_server():
        ddb, s3 = stack(table, bucket, base)
        retrain("all", first, **names)
        store = DynamoDBStore(table, client=ddb, current_ttl_seconds=0)
        run_a = store.current_run()
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"runs/{run_a}/models/")
        uploaded = {obj["Key"].split("/", 2)[2] for obj in listing.get("Contents", [])}

        s3.upload_file(str(grown), bucket, "input/catalogue.csv")
        retrain("all", second, SPOTREC_RETRAIN_ID="execution-2", **names)
        run_b = store.current_run()
        written = {key.removeprefix(run_b + "#") for key in stored_keys(table, run_b)}

    assert "models/cosine/cosine.json" in uploaded
    published = scaler_of(first / "build" / "models" / "cosine")
    assert scaler_of(second / "previous" / "models" / "cosine") == published  # fetched
    assert scaler_of(second / "build" / "models" / "cosine") == published  # and kept
    assert run_b != run_a
    assert written == expected_writes(first / "build", second / "build")
    kinds = Counter(key.split("#")[0] for key in written)
    assert 4 <= kinds["T"] <= 20  # the new tracks and their part-mates, not all 402
    assert 0 < kinds["N"] < 400  # a refitted scaler would change (nearly) every list
