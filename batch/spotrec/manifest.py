"""manifest.json: what a build holds, and proof that its files are the ones it describes.

Fields: run_id, created, input {path, sha256, bytes}, models, default_model, top_n, counts
{rows_read, rows_rejected, rejects_by_reason, tracks, songs, variant_tracks, holdout_tracks},
holdout, model_summaries, neighbour_search, evaluation, timings_s, peak_rss_mb, and files
{relative path: {sha256, bytes}} for every data file of the build.

neighbour_search {model: {method "exact" | "approximate", index (e.g. "IVF4000,Flat"), nlist,
nprobe, rows, dim, top_n, recall_at_10, recall_sample, index_build_s, recall_s, and for a sharded
build shards + min_shard_recall_at_10}}: recall@10 against exact search on a seeded sample of
queries, measured every build (spotrec.ann, spotrec.neighbour_files).

Publishing refuses a build whose files do not match (see verify_files).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.errors import SpotrecError

MANIFEST_VERSION = 1


def new_run_id(input_sha256: str, now: dt.datetime | None = None) -> str:
    """Sortable and unique per build: UTC time to the second plus a slice of the input hash."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{input_sha256[:8]}"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def data_files(build_dir: Path) -> list[Path]:
    """The build's data files that the manifest vouches for (not the store, models or report)."""
    found = [build_dir / schema.TRACKS_FILE]
    found += sorted((build_dir / schema.NEIGHBOURS_DIR).glob("*.parquet"))
    rejects = build_dir / schema.REJECTS_FILE
    if rejects.exists():
        found.append(rejects)
    return [p for p in found if p.exists()]


def describe_files(build_dir: Path) -> dict[str, dict[str, Any]]:
    return {
        p.relative_to(build_dir).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
        for p in data_files(build_dir)
    }


def write_manifest(build_dir: Path, manifest: dict[str, Any]) -> Path:
    """Write atomically, so a reader never sees half a manifest."""
    path = build_dir / schema.MANIFEST_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"version": MANIFEST_VERSION, **manifest}, indent=2, default=str))
    os.replace(tmp, path)
    return path


def read_manifest(build_dir: Path) -> dict[str, Any]:
    path = Path(build_dir) / schema.MANIFEST_FILE
    if not path.is_file():
        raise SpotrecError(f"{build_dir} is not a spotrec build: {schema.MANIFEST_FILE} is missing")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise SpotrecError(f"{path} is not valid JSON: {exc}") from exc


def verify_files(build_dir: Path, manifest: dict[str, Any] | None = None) -> None:
    """Raise SpotrecError naming every file that is missing, extra, or differs from the manifest."""
    manifest = manifest or read_manifest(build_dir)
    expected = manifest.get("files")
    if not expected:
        raise SpotrecError(f"{build_dir}/manifest.json lists no files; rebuild it")
    actual = describe_files(build_dir)
    problems = [f"missing {name}" for name in sorted(expected.keys() - actual.keys())]
    problems += [f"unlisted {name}" for name in sorted(actual.keys() - expected.keys())]
    problems += [
        f"changed {name}"
        for name in sorted(expected.keys() & actual.keys())
        if expected[name]["sha256"] != actual[name]["sha256"]
    ]
    if problems:
        raise SpotrecError(f"{build_dir} does not match its manifest: " + "; ".join(problems))
