"""Publish a build to S3 + DynamoDB as one atomic release, and roll it back.

Order of a publish (each step only after the previous one succeeded; each phase logs its
progress):

1. verify the build directory against its manifest (build_files.load_build);
2. copy its Parquet files, then its manifest, to s3://<bucket>/runs/<run_id>/ (SSE-S3);
3. mark the run ``writing`` in its registry item; unless ``Target.incremental`` is off, plan
   which parts of the release are unchanged since the current release and carry them
   (incremental.py: a first pass digests the release, nothing is written); write every other
   item (BatchWriteItem, 25 at a time, unprocessed items retried with backoff + jitter),
   each with its TTL (``expires_at`` = now + ``lifetime_days``), tallying items and a body
   digest per part; META carries the part map when anything was carried;
4. verify: per-kind counts against the manifest (T = tracks, N#<model> = tracks for every
   model) and META's item_counts; every item written or carried; a random sample of items
   (carried ones under the run holding them) read back (strongly consistent) and compared by
   body digest. No per-page GSI count queries;
5. store the part digests in S3 for the next publish, mark the run ``complete``, then move
   CURRENT with a conditional PutItem (release.py);
6. retire the runs that fell out of the last ``keep``: their registry says ``expired``. That is
   O(1) per run: the items already carry their TTL, so nothing is written per item.

A failure in 1-5 leaves CURRENT, and so what readers see, on the old run. The new run's
partial items are invisible (no pointer names them); rerunning the publish overwrites them.
A run must be replaced before its lifetime ends (the weekly retrain does; the publisher warns
when the served run has less than RENEW_WARNING_DAYS left, ``--renew`` rewrites it with a fresh
TTL, and readers refuse an expired run whole rather than serve a partly deleted one).
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
from spotrec.writers import build_files, dynamo_write, incremental, release, retire, stack_template
from spotrec.writers.dynamo_write import PartTally, PublishError, Sampler
from spotrec.writers.items import item_kind
from spotrec.writers.progress import Progress
from spotrec_serving.items import ATTR_BODY, META_KEY

log = logging.getLogger(__name__)

DEFAULT_KEEP = 3
DEFAULT_LIFETIME_DAYS = 90  # a run's items expire this long after its publish (DynamoDB TTL)
READ_BACK_SAMPLE = 500  # items read back after the writes (5 BatchGetItem calls)

ReleaseItems = Iterable[tuple[str, dict[str, Any]]]


@dataclass
class PublishResult:
    run_id: str
    action: str  # "published" | "already-current" | "rolled-back"
    items_written: int = 0
    items_carried: int = 0  # unchanged items left under the run that already holds them
    write_retries: int = 0
    uploaded: bool = False
    previous: list[str] = field(default_factory=list)
    expired_runs: list[str] = field(default_factory=list)
    read_back: int = 0
    bytes_written: int = 0
    expires_at: int = 0
    phase_seconds: dict[str, float] = field(default_factory=dict)
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
    lifetime_days: int = DEFAULT_LIFETIME_DAYS
    read_back: int = READ_BACK_SAMPLE
    incremental: bool = True  # carry unchanged parts from the current release (incremental.py)
    refresh_days: float = DEFAULT_LIFETIME_DAYS / 2  # rewrite parts whose holder expires sooner

    def __post_init__(self) -> None:
        from spotrec_serving.dynamodb_store import make_client

        if self.dynamodb is None:
            self.dynamodb = make_client("dynamodb", read_timeout=30)
        if self.s3 is None and self.bucket:
            self.s3 = make_client("s3", read_timeout=60)


def ensure_resources(target: Target, template_path: Path | None, create_missing: bool) -> None:
    """Check (or with create_missing, create) the table and bucket."""
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
    del table  # described only to fail early and clearly


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


def _verify_read_back(target: Target, sample: dict[str, bytes], run_id: str) -> None:
    with Progress("verify: read back a sample", total=len(sample)) as progress:
        bad = dynamo_write.read_back(target.dynamodb, target.table, sample, target.sleep)
        progress.update(len(sample))
    if bad:
        raise PublishError(
            f"run {run_id}: {len(bad)} of {len(sample)} sampled items are missing or differ "
            f"after the write (e.g. {bad[0]}); CURRENT not moved"
        )


def publish(
    build_dir: Path,
    target: Target,
    *,
    keep: int = DEFAULT_KEEP,
    create_missing: bool = False,
    template_path: Path | None = None,
    items: ReleaseItems | None = None,
    renew: bool = False,
) -> PublishResult:
    """Publish the build (see the module docstring). ``renew`` rewrites an already-current run
    with a fresh TTL (identical bodies under the same keys, so readers never see a change)."""
    started = time.monotonic()
    if keep < 1:
        raise SpotrecError("--keep must be at least 1 (the current run)")
    if not target.bucket:
        raise SpotrecError("publish needs --bucket (or SPOTREC_BUCKET)")
    build = build_files.load_build(build_dir)
    run_id = build.run_id
    ensure_resources(target, template_path, create_missing)
    read = release.read_pointer(target.dynamodb, target.table)
    registry = release.read_registry(target.dynamodb, target.table, run_id) or {}
    result = PublishResult(run_id, "published")
    phase = time.monotonic()
    log.info("upload: copying the build to s3://%s/runs/%s/", target.bucket, run_id)
    result.uploaded = build_files.upload_build(target.s3, target.bucket, build)
    result.phase_seconds["upload"] = time.monotonic() - phase
    if read.run_id == run_id and registry.get("state") == "complete" and not renew:
        result.action, result.previous = "already-current", read.previous
        retire.warn_if_expiring(target, run_id)
        result.seconds = time.monotonic() - started
        return result

    expires_at = release.expiry_time(target.lifetime_days * 86400)
    previous = None
    if target.incremental and not renew and read.run_id and read.run_id != run_id:
        previous = incremental.read_previous(
            target.dynamodb, target.table, target.s3, target.bucket, read.run_id
        )
    source = None if items is None else list(items)  # an incremental publish reads it twice

    def generate() -> ReleaseItems:
        if source is not None:
            return iter(source)
        from spotrec.writers.items import iter_release_items

        if previous is None or not previous.ids:
            return iter_release_items(build_dir)
        return iter_release_items(build_dir, order=previous.ids)

    plan = None
    if previous is not None:
        phase = time.monotonic()
        with Progress("plan: digest the release"):
            first = incremental.digest_pass(generate())
        plan = incremental.plan(run_id, first, previous, expires_at, target.refresh_days)
        result.phase_seconds["plan"] = time.monotonic() - phase
    digests = incremental.ReleaseDigests()
    counts: Counter[str] = Counter()
    declared: dict[str, int] = {}
    sampler, tally = Sampler(target.read_back), PartTally()
    carried = 0

    def wire_items() -> Iterator[dict[str, Any]]:
        nonlocal carried
        for logical_key, body in generate():
            counts[item_kind(logical_key)] += 1
            if logical_key == META_KEY:
                declared.update(body.get("item_counts") or {})
                body = {**body, "expires_at": plan.release_expires_at if plan else expires_at}
                if plan and plan.meta_parts():
                    body["parts"] = plan.meta_parts()
            holder = plan.holder(logical_key) if plan else run_id
            item = dynamo_write.to_dynamo_item(holder, logical_key, body, expires_at)
            digests.add(logical_key, next(iter(item[ATTR_BODY].values())))
            sampler.offer(item)  # carried items too: the read-back checks they are still there
            if holder != run_id:
                carried += 1
                continue
            yield item

    def acknowledged(batch: list[dict[str, Any]]) -> None:
        for item in batch:
            tally.add(item)
        progress.update(len(batch))

    release.write_registry(
        target.dynamodb, target.table, run_id, "writing", manifest_sha256=build.manifest_sha256
    )
    phase = time.monotonic()
    with Progress("writes: BatchWriteItem") as progress:
        written, retries = dynamo_write.write_items(
            target.dynamodb,
            target.table,
            wire_items(),
            workers=target.workers,
            sleep=target.sleep,
            on_written=acknowledged,
        )
    result.phase_seconds["writes"] = time.monotonic() - phase
    phase = time.monotonic()
    _check_counts(build, counts, declared)
    if written + carried != sum(counts.values()) or sum(tally.counts) != written:
        raise PublishError(
            f"run {run_id}: {sum(counts.values())} items generated, {carried} carried, "
            f"{written} acknowledged; CURRENT not moved"
        )
    if plan is not None and not incremental.same_release(plan, digests):
        raise PublishError(f"run {run_id}: the release changed between its two passes")
    plan = plan or incremental.plan(run_id, digests, None, expires_at, target.refresh_days)
    digests_sha256 = incremental.save_digests(target.s3, target.bucket, plan)
    _verify_read_back(target, sampler.sample, run_id)
    result.phase_seconds["verify"] = time.monotonic() - phase
    release.write_registry(
        target.dynamodb,
        target.table,
        run_id,
        "complete",
        expires_at=expires_at,
        items=written,
        bytes=tally.bytes,
        counts=dict(counts),
        parts=tally.as_dict(),
        manifest_sha256=build.manifest_sha256,
        carried=carried,
        release_expires_at=plan.release_expires_at,
        part_digests_sha256=digests_sha256,
    )
    phase = time.monotonic()
    with Progress("pointer: move CURRENT", total=1, unit="moves") as progress:
        new = release.promoted(retire.still_retiring(target, read), run_id, keep)
        release.move_pointer(target.dynamodb, target.table, read, new, "publish")
        progress.update()
    result.phase_seconds["pointer"] = time.monotonic() - phase
    log.info("CURRENT -> %s (previous %s)", run_id, new.previous)
    result.items_written, result.write_retries, result.previous = written, retries, new.previous
    result.items_carried = carried
    result.read_back, result.bytes_written, result.expires_at = (
        len(sampler.sample),
        tally.bytes,
        expires_at,
    )
    phase = time.monotonic()
    result.expired_runs = retire.expire_retired(target, new)
    result.phase_seconds["expiry"] = time.monotonic() - phase
    result.seconds = time.monotonic() - started
    return result


def rollback(target: Target) -> PublishResult:
    """Serve the previous kept run again; the run rolled back from is retired (expires)."""
    started = time.monotonic()
    ensure_resources(target, None, create_missing=False)
    read = release.read_pointer(target.dynamodb, target.table)
    new = release.rolled_back(retire.still_retiring(target, read))
    registry = release.read_registry(target.dynamodb, target.table, new.run_id) or {}
    if registry.get("state") != "complete":
        raise SpotrecError(
            f"cannot roll back to run {new.run_id}: its registry says {registry.get('state')!r}"
        )
    release.move_pointer(target.dynamodb, target.table, read, new, "rollback")
    log.info("CURRENT %s -> %s (rollback)", read.run_id, new.run_id)
    result = PublishResult(new.run_id, "rolled-back", previous=new.previous)
    result.expired_runs = retire.expire_retired(target, new)
    result.seconds = time.monotonic() - started
    return result
