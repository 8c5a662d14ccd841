"""A build directory's files: checked against its manifest, then copied to S3.

The manifest (spotrec build, manifest.py) lists ``files: {relative_path: {"sha256", "bytes"}}``
for the data files: tracks.parquet, neighbours/*.parquet and rejects.csv. A publish refuses a
build whose files do not match it (missing, unlisted, changed) and uploads exactly those files,
plus the saved state of the models a later build reuses (REUSED_MODELS: cosine's feature
scaler, read by the scheduled retrain's `spotrec build --previous`, infra/retrain.py).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.errors import SpotrecError
from spotrec.manifest import sha256_file, verify_files

log = logging.getLogger(__name__)

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # no '#': key separator
SSE = {"ServerSideEncryption": "AES256"}
# Models whose saved state (JSON + .npy, never pickled) the next build reads with --previous:
# cosine keeps the previous feature scaler so unchanged tracks keep their lists (docs/aws.md).
REUSED_MODELS = ("cosine",)


class BuildDirError(SpotrecError):
    """The build directory is not a complete, untouched build."""


@dataclass(frozen=True)
class Build:
    directory: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    run_id: str
    release_files: list[str]  # relative paths to upload, manifest excluded

    def s3_key(self, relative_path: str) -> str:
        return f"runs/{self.run_id}/{relative_path}"


def manifest_count(manifest: dict[str, Any], name: str) -> int:
    """A count from the manifest: ``counts.<name>``, or a top-level ``<name>``."""
    value = (manifest.get("counts") or {}).get(name, manifest.get(name))
    if not isinstance(value, int) or isinstance(value, bool):
        raise BuildDirError(f"manifest.json has no integer count '{name}' (counts.{name})")
    return value


def load_build(directory: Path) -> Build:
    """Read and verify a build directory; raise BuildDirError naming the first problem."""
    manifest_path = directory / schema.MANIFEST_FILE
    if not manifest_path.is_file():
        raise BuildDirError(f"{directory} is not a build directory: no {schema.MANIFEST_FILE}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BuildDirError(f"{manifest_path} is not valid JSON: {exc}") from exc
    run_id = manifest.get("run_id")
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise BuildDirError(f"manifest run_id {run_id!r} is missing or unsafe for keys")
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise BuildDirError("manifest.json lists no files (files: {path: {sha256, bytes}})")
    try:
        verify_files(directory, manifest)  # every data file listed, present and unchanged
    except SpotrecError as exc:
        raise BuildDirError(str(exc)) from exc
    models = manifest.get("models") or []
    for relative in [schema.TRACKS_FILE] + [f"{schema.NEIGHBOURS_DIR}/{m}.parquet" for m in models]:
        if relative not in files:
            raise BuildDirError(f"manifest.json does not list {relative}")
    return Build(directory, manifest, sha256_file(manifest_path), run_id, sorted(files))


def reused_model_files(directory: Path) -> list[str]:
    """models/<m>/ files of REUSED_MODELS in the build (relative paths); none when absent.

    Not in the manifest (not release data): a run without them only means the next retrain
    refits the scaler."""
    found = []
    for name in REUSED_MODELS:
        model_dir = directory / schema.MODELS_DIR / name
        if model_dir.is_dir():
            found += [p.relative_to(directory).as_posix() for p in model_dir.rglob("*")]
    return sorted(f for f in found if (directory / f).is_file())


def upload_build(s3: Any, bucket: str, build: Build) -> bool:
    """Copy the release files and reused model state, then the manifest LAST, to
    s3://bucket/runs/<run_id>/.

    A reader that finds the manifest therefore finds every file. Returns False (and uploads
    nothing) when the same manifest is already there: republishing is harmless.
    """
    from botocore.exceptions import ClientError

    manifest_key = build.s3_key(schema.MANIFEST_FILE)
    try:
        head = s3.head_object(Bucket=bucket, Key=manifest_key)
        if head.get("Metadata", {}).get("sha256") == build.manifest_sha256:
            log.info(
                "s3://%s/%s already holds this manifest; skipping upload", bucket, manifest_key
            )
            return False
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
    files = build.manifest["files"]
    for relative in build.release_files:
        extra = {**SSE, "Metadata": {"sha256": files[relative]["sha256"]}}
        s3.upload_file(
            str(build.directory / relative), bucket, build.s3_key(relative), ExtraArgs=extra
        )
    for relative in reused_model_files(build.directory):
        s3.upload_file(
            str(build.directory / relative), bucket, build.s3_key(relative), ExtraArgs=SSE
        )
    s3.put_object(
        Bucket=bucket,
        Key=manifest_key,
        Body=(build.directory / schema.MANIFEST_FILE).read_bytes(),
        ContentType="application/json",
        Metadata={"sha256": build.manifest_sha256},
        **SSE,
    )
    return True
