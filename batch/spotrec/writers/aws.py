"""Publish a build to S3 + DynamoDB as one atomic release, and roll it back.

Order of a publish (each step only after the previous one succeeded):

1. verify the build directory against its manifest (build_files.load_build);
2. copy its Parquet files, then its manifest, to s3://<bucket>/runs/<run_id>/ (SSE-S3);
3. mark the run ``writing`` in its registry item, write every item of the run (BatchWriteItem,
   25 at a time, unprocessed items retried with backoff + jitter);
4. verify: per-kind counts against the manifest (T = tracks, N#<model> = tracks for every
   model) and the run's item count in the table (GSI Query, Select=COUNT) = items written;
5. mark the run ``complete``, then move CURRENT with a conditional PutItem (release.py);
6. stamp the runs that fell out of the last ``keep`` with the TTL attribute.

A failure in 1-5 leaves CURRENT, and so what readers see, on the old run. The new run's
partial items are invisible (no pointer names them); rerunning the publish overwrites them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spotrec.errors import SpotrecError
from spotrec.writers import build_files, dynamo_write, release, stack_template
from spotrec.writers.dynamo_write import PublishError
from spotrec_serving.items import META_KEY

log = logging.getLogger(__name__)

DEFAULT_KEEP = 3
EXPIRY_GRACE_SECONDS = 3600  # retired items outlive the pointer move by an hour
VERIFY_TIMEOUT_SECONDS = 120.0  # a GSI is eventually consistent: poll the count this long

ReleaseItems = Iterable[tuple[str, dict[str, Any]]]


@dataclass
class PublishResult:
    run_id: str
    action: str  # "published" | "already-current" | "rolled-back"
    items_written: int = 0
    write_retries: int = 0
    uploaded: bool = False
    previous: list[str] = field(default_factory=list)
    expired_runs: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Target:
    """Where a release goes, and the clients to reach it (injected in tests)."""

    table: str
    bucket: str | None = None
    dynamodb: Any = None
    s3: Any = None
    workers: int = 4
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        from spotrec_serving.dynamodb_store import make_client

        if self.dynamodb is None:
            self.dynamodb = make_client("dynamodb", read_timeout=30)
        if self.s3 is None and self.bucket:
            self.s3 = make_client("s3", read_timeout=60)


def ensure_resources(target: Target, template_path: Path | None, create_missing: bool) -> str:
    """Check (or with create_missing, create) the table and bucket; return the GSI name."""
    from botocore.exceptions import ClientError

    template = stack_template.load_template(template_path) if create_missing else None
    try:
        table = target.dynamodb.describe_table(TableName=target.table)["Table"]
    except target.dynamodb.exceptions.ResourceNotFoundException:
        if template is None:
            raise SpotrecError(
                f"DynamoDB table {target.table} does not exist: deploy the stack, or pass "
                "--create-missing to create it from template.yaml"
            ) from None
        stack_template.create_table(target.dynamodb, template, target.table)
        table = target.dynamodb.describe_table(TableName=target.table)["Table"]
    if target.bucket:
        try:
            target.s3.head_bucket(Bucket=target.bucket)
        except ClientError as exc:
            if template is None or exc.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
                raise SpotrecError(
                    f"S3 bucket {target.bucket} is not reachable "
                    f"({exc.response['Error']['Code']}); pass --create-missing to create it"
                ) from exc
            region = target.s3.meta.region_name
            stack_template.create_bucket(target.s3, template, target.bucket, region)
    for index in table.get("GlobalSecondaryIndexes", []):
        if index["KeySchema"][0]["AttributeName"] == dynamo_write.ATTR_RUN_PART:
            return index["IndexName"]
    raise SpotrecError(f"table {target.table} lacks the run_part GSI that template.yaml declares")


def _kind(logical_key: str) -> str:
    """Count bucket of a logical key: META, T, S, or N#<model> / G#<model> (as items.py)."""
    parts = logical_key.split("#")
    return "#".join(parts[:2]) if parts[0] in ("N", "G") else parts[0]


def _check_counts(build: build_files.Build, counts: Counter[str], declared: dict | None) -> None:
    """Items per kind against the manifest (T and N#<model> = tracks) and META's item_counts."""
    tracks = build_files.manifest_count(build.manifest, "tracks")
    expected = {"T": tracks, **{f"N#{m}": tracks for m in build.manifest.get("models", [])}}
    if declared:  # META lists what the item generator meant to yield
        expected.update(declared)
    for kind, want in sorted(expected.items()):
        if counts.get(kind, 0) != want:
            raise PublishError(
                f"run {build.run_id}: {counts.get(kind, 0)} {kind} items, expected {want}; "
                "CURRENT not moved"
            )


def _verify_count(target: Target, index: str, run_id: str, written: int) -> None:
    deadline = time.monotonic() + VERIFY_TIMEOUT_SECONDS
    while True:
        found = dynamo_write.count_run_items(target.dynamodb, target.table, index, run_id)
        if found == written:
            return
        if found > written or time.monotonic() > deadline:
            raise PublishError(
                f"run {run_id}: the table holds {found} items of the run, {written} were "
                "written; CURRENT not moved"
            )
        target.sleep(2.0)  # the GSI lags the table by a moment in real DynamoDB


def _expire_retired(target: Target, index: str, pointer: release.Pointer) -> list[str]:
    """Best effort: the release is already live; a failure here is retried next publish."""
    expired = []
    for run_id in pointer.retired:
        registry = release.read_registry(target.dynamodb, target.table, run_id) or {}
        if registry.get("state") == "expired":
            continue
        try:
            at = release.expiry_time(EXPIRY_GRACE_SECONDS)
            count = dynamo_write.expire_run(target.dynamodb, target.table, index, run_id, at)
            release.write_registry(
                target.dynamodb, target.table, run_id, "expired", expires_at=at, items=count
            )
            expired.append(run_id)
        except Exception as exc:
            log.warning("could not expire run %s yet (%s); will retry next publish", run_id, exc)
    return expired


def _still_retiring(target: Target, pointer: release.Pointer) -> release.Pointer:
    pending = [
        run_id
        for run_id in pointer.retired
        if (release.read_registry(target.dynamodb, target.table, run_id) or {}).get("state")
        != "expired"
    ]
    return release.Pointer(pointer.run_id, pointer.revision, pointer.previous, pending)


def publish(
    build_dir: Path,
    target: Target,
    *,
    keep: int = DEFAULT_KEEP,
    create_missing: bool = False,
    template_path: Path | None = None,
    items: ReleaseItems | None = None,
) -> PublishResult:
    started = time.monotonic()
    if keep < 1:
        raise SpotrecError("--keep must be at least 1 (the current run)")
    if not target.bucket:
        raise SpotrecError("publish needs --bucket (or SPOTREC_BUCKET)")
    build = build_files.load_build(build_dir)
    run_id = build.run_id
    index = ensure_resources(target, template_path, create_missing)
    read = release.read_pointer(target.dynamodb, target.table)
    registry = release.read_registry(target.dynamodb, target.table, run_id) or {}
    result = PublishResult(run_id, "published")
    result.uploaded = build_files.upload_build(target.s3, target.bucket, build)
    if read.run_id == run_id and registry.get("state") == "complete":
        result.action, result.previous = "already-current", read.previous
        result.seconds = time.monotonic() - started
        return result

    if items is None:
        from spotrec.writers.items import iter_release_items

        items = iter_release_items(build_dir)
    counts: Counter[str] = Counter()
    declared: dict[str, int] = {}

    def wire_items() -> Iterator[dict[str, Any]]:
        for logical_key, body in items:
            counts[_kind(logical_key)] += 1
            if logical_key == META_KEY:
                declared.update(body.get("item_counts") or {})
            yield dynamo_write.to_dynamo_item(run_id, logical_key, body)

    release.write_registry(
        target.dynamodb, target.table, run_id, "writing", manifest_sha256=build.manifest_sha256
    )
    written, retries = dynamo_write.write_items(
        target.dynamodb, target.table, wire_items(), workers=target.workers, sleep=target.sleep
    )
    _check_counts(build, counts, declared)
    _verify_count(target, index, run_id, written)
    release.write_registry(
        target.dynamodb,
        target.table,
        run_id,
        "complete",
        items=written,
        counts=dict(counts),
        manifest_sha256=build.manifest_sha256,
    )
    new = release.promoted(_still_retiring(target, read), run_id, keep)
    release.move_pointer(target.dynamodb, target.table, read, new, "publish")
    log.info("CURRENT -> %s (previous %s)", run_id, new.previous)
    result.items_written, result.write_retries, result.previous = written, retries, new.previous
    result.expired_runs = _expire_retired(target, index, new)
    result.seconds = time.monotonic() - started
    return result


def rollback(target: Target) -> PublishResult:
    """Serve the previous kept run again; the run rolled back from is retired (expires)."""
    started = time.monotonic()
    index = ensure_resources(target, None, create_missing=False)
    read = release.read_pointer(target.dynamodb, target.table)
    new = release.rolled_back(_still_retiring(target, read))
    registry = release.read_registry(target.dynamodb, target.table, new.run_id) or {}
    if registry.get("state") != "complete":
        raise SpotrecError(
            f"cannot roll back to run {new.run_id}: its registry says {registry.get('state')!r}"
        )
    release.move_pointer(target.dynamodb, target.table, read, new, "rollback")
    log.info("CURRENT %s -> %s (rollback)", read.run_id, new.run_id)
    result = PublishResult(new.run_id, "rolled-back", previous=new.previous)
    result.expired_runs = _expire_retired(target, index, new)
    result.seconds = time.monotonic() - started
    return result
