#!/usr/bin/env python3
"""Entry point of the retrain container: `retrain export-events|train|neighbours|publish|all`.

The Step Functions state machine (template.yaml) runs one AWS Batch job per stage. Jobs share
the build directory through s3://$SPOTREC_BUCKET/staging/$SPOTREC_RETRAIN_ID/ (a lifecycle
rule deletes staging after 14 days):

  export-events  `spotrec events export` of the events table (parallel Scan) to
              staging/<id>/events/events.jsonl, the events log the build reads (--interactions)
  train       fetch the CSV, `spotrec build --stage train`, upload the work dir
  neighbours  one child of the array job: download it, `spotrec build --stage neighbours
              --num-shards N` (the shard index comes from AWS_BATCH_JOB_ARRAY_INDEX), upload
              its shard files
  publish     download everything (all shards: the array job has finished), `spotrec build
              --stage finish`, then `spotrec publish` (atomic release, CURRENT moves last)
  all         the whole build on one machine, then publish (no staging)

Environment: SPOTREC_BUCKET, SPOTREC_TABLE, SPOTREC_RETRAIN_ID (the execution name),
SPOTREC_NUM_SHARDS, SPOTREC_MODELS, SPOTREC_DATA_URI (s3://... or empty = public download),
SPOTREC_LISTENING_PREFIX (a key prefix in the bucket holding listening data: MPD slices or
events logs, e.g. the events the API collects; empty = none) and SPOTREC_HALF_LIFE_DAYS (recency
weighting of that listening data; empty = off).

With listening data the train stage passes it to `spotrec build --interactions` and adds the
co-listening model and the hybrid to the models; later stages build the models the train stage
recorded (no --models), so every stage agrees.

The train stage (and `all`) also passes `--previous` with the current release's reused model
state (s3://$SPOTREC_BUCKET/runs/<CURRENT run>/models/cosine/: the feature scaler, JSON + .npy,
which every publish uploads): like a local `spotrec build --previous DIR`, unchanged tracks
keep their lists, so the incremental publish writes only what changed (docs/aws.md). With no
release yet, or a run published without that state, the scaler is refitted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3

from spotrec import schema
from spotrec.writers.release import read_pointer

WORK = Path(os.environ.get("SPOTREC_WORK", "/tmp/spotrec"))
BUILD = WORK / "build"
SKIP = ("store.sqlite",)  # the finish stage writes no store here: DynamoDB is the store


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        sys.exit(f"retrain: {name} is not set")
    return value


def staging_prefix() -> str:
    return f"staging/{env('SPOTREC_RETRAIN_ID')}/build/"


def spotrec(*args: str) -> None:
    print("+ spotrec", " ".join(args), flush=True)
    subprocess.run(["spotrec", *args], check=True)


def upload(directory: Path, prefix: str, only: str = "", suffix: str = "") -> None:
    s3, bucket = boto3.client("s3"), env("SPOTREC_BUCKET")
    for path in sorted((directory / only).rglob("*")):
        if path.is_file() and path.name not in SKIP and path.name.endswith(suffix):
            key = prefix + path.relative_to(directory).as_posix()
            s3.upload_file(str(path), bucket, key, ExtraArgs={"ServerSideEncryption": "AES256"})


def download(prefix: str, directory: Path, skip: str | None = None) -> None:
    s3, bucket = boto3.client("s3"), env("SPOTREC_BUCKET")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if skip and obj["Key"].startswith(prefix + skip):
                continue
            target = directory / obj["Key"][len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))


def fetch_data() -> Path:
    uri = os.environ.get("SPOTREC_DATA_URI", "")
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
        target = WORK / Path(key).name
        target.parent.mkdir(parents=True, exist_ok=True)
        boto3.client("s3").download_file(bucket, key, str(target))
        return target
    cache = WORK / "cache"
    spotrec("data", "download", "--cache", str(cache), "--timeout", "60")
    return cache / "dataset.csv"


def fetch_listening() -> Path | None:
    """Download the listening prefix, and the events the API collected (exported to staging by
    the export-events stage), into WORK/listening; None when there is none."""
    target = WORK / "listening"
    prefix = os.environ.get("SPOTREC_LISTENING_PREFIX", "")
    if prefix:
        download(prefix, target / "prefix")
    if os.environ.get("SPOTREC_EVENTS_TABLE") and os.environ.get("SPOTREC_RETRAIN_ID"):
        download(f"staging/{env('SPOTREC_RETRAIN_ID')}/events/", target / "api-events")
    if not target.is_dir() or not any(p.is_file() for p in target.rglob("*")):
        print("retrain: no listening data (prefix or collected events): content models only")
        return None
    return target


def fetch_previous() -> list[str]:
    """`--previous DIR` holding the current release's models/ state; [] when there is none."""
    run_id = read_pointer(boto3.client("dynamodb"), env("SPOTREC_TABLE")).run_id
    if run_id is None:
        print("retrain: nothing published yet: the scaler is fitted afresh")
        return []
    target = WORK / "previous"
    shutil.rmtree(target, ignore_errors=True)
    download(f"runs/{run_id}/{schema.MODELS_DIR}/", target / schema.MODELS_DIR)
    if not target.is_dir():
        print(f"retrain: run {run_id} has no {schema.MODELS_DIR}/ in S3: the scaler is refitted")
        return []
    print(f"retrain: --previous: the model state of the current run {run_id}", flush=True)
    return ["--previous", str(target)]


def train_arguments(models: str) -> list[str]:
    """--models, --previous and the listening arguments of the train stage."""
    previous = fetch_previous()
    listening = fetch_listening()
    if listening is None:
        return ["--models", models, *previous]
    wanted = [m for m in models.split(",") if m] + ["colistening", "hybrid"]
    args = ["--models", ",".join(dict.fromkeys(wanted)), "--interactions", str(listening)]
    args += previous
    if os.environ.get("SPOTREC_HALF_LIFE_DAYS"):
        args += ["--half-life-days", os.environ["SPOTREC_HALF_LIFE_DAYS"]]
    return args


def main(stage: str) -> None:
    models = env("SPOTREC_MODELS", "cosine,transformer,blend")
    common = ["--out", str(BUILD)]  # later stages build the models the train stage recorded
    if stage == "export-events":
        target = WORK / "events" / "events.jsonl"
        spotrec("events", "export", "--table", env("SPOTREC_EVENTS_TABLE"), "--to", str(target))
        upload(WORK / "events", f"staging/{env('SPOTREC_RETRAIN_ID')}/events/")
    elif stage == "train":
        data = str(fetch_data())
        spotrec("build", "--stage", "train", "--data", data, *common, *train_arguments(models))
        upload(BUILD, staging_prefix())
    elif stage == "neighbours":
        # Sibling shards run at the same time: fetch none of theirs, upload only our own.
        download(staging_prefix(), BUILD, skip="neighbours/shards/")
        shard, shards = env("AWS_BATCH_JOB_ARRAY_INDEX"), env("SPOTREC_NUM_SHARDS")
        spotrec("build", "--stage", "neighbours", "--num-shards", shards, *common)
        upload(
            BUILD,
            staging_prefix(),
            only="neighbours/shards",
            suffix=f".{shard}-of-{shards}.parquet",
        )
    elif stage in ("publish", "all"):
        if stage == "publish":
            download(staging_prefix(), BUILD)
            spotrec("build", "--stage", "finish", "--no-store", *common)
        else:
            data = str(fetch_data())
            spotrec("build", "--data", data, "--no-store", *common, *train_arguments(models))
        table, bucket = env("SPOTREC_TABLE"), env("SPOTREC_BUCKET")
        spotrec("publish", "--from", str(BUILD), "--bucket", bucket, "--table", table)
    else:
        sys.exit(f"retrain: unknown stage {stage!r} (train, neighbours, publish, all)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "all")
