"""`spotrec data download`: fetch the public Spotify Tracks CSV into a cache directory.

Standard library only (urllib). The file is streamed to a temp file in the cache directory while
its sha256 is computed, checked (header, row count, genre count, checksum), and only then moved
into place with ``os.replace``, so a half-downloaded or wrong file never sits at the final path.
A sidecar ``dataset.json`` records sha256, rows, genres, url and time; the build copies the
sha256 into its manifest. Without a network the command fails within ``timeout`` seconds and
says what to do instead.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from spotrec import schema
from spotrec.errors import SpotrecError

HELP = "download the public Spotify Tracks CSV (Hugging Face) into the cache and verify it"
DATASET_URL = (
    "https://huggingface.co/datasets/maharshipandya/spotify-tracks-dataset/resolve/main/dataset.csv"
)
EXPECTED_SHA256 = "b202fa49909b2d5cef71a04b1d21243cfeb36414535f2ca9272aa646721177bd"
EXPECTED_ROWS = 114_000
EXPECTED_GENRES = 114
DATASET_FILE = "dataset.csv"
SIDECAR_FILE = "dataset.json"
DEFAULT_TIMEOUT_S = 5.0
_CHUNK = 1 << 20
log = logging.getLogger(__name__)

WAYS_FORWARD = (
    "Ways forward: pass --data PATH to use a copy of the CSV you already have, or run "
    "`spotrec data synth --out PATH` to make a synthetic catalogue and build on that."
)


def default_cache_dir() -> Path:
    return Path(os.environ.get("SPOTREC_CACHE") or Path.home() / ".cache" / "spotrec")


def _fetch(url: str, target: Path, timeout: float) -> str:
    """Stream ``url`` into ``target``; returns the sha256 of the bytes."""
    digest = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "spotrec-data-download"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, target.open("wb") as out:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise SpotrecError(
            f"download of {url} failed: HTTP {exc.code} {exc.reason}. {WAYS_FORWARD}"
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SpotrecError(f"cannot download {url} (no network? {reason}). {WAYS_FORWARD}") from exc
    return digest.hexdigest()


def inspect_csv(path: Path) -> tuple[int, int]:
    """(data rows, distinct genres) of a raw CSV after checking its header; errors name the
    problem."""
    expected_header = [schema.RAW_INDEX, *schema.RAW_COLUMNS]
    with path.open(encoding="utf-8", newline="", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != expected_header:
            shown = ",".join(header) if header else "(empty file)"
            raise SpotrecError(
                f"downloaded file has an unexpected header: {shown[:300]!r}; "
                f"expected {','.join(expected_header)!r}"
            )
        genre_at = header.index("track_genre")
        rows, genres = 0, set()
        for record in reader:
            rows += 1
            if len(record) > genre_at:
                genres.add(record[genre_at])
    return rows, len(genres)


def download_dataset(
    cache_dir: str | os.PathLike | None = None,
    *,
    url: str = DATASET_URL,
    expected_sha256: str | None = EXPECTED_SHA256,
    expected_rows: int | None = EXPECTED_ROWS,
    expected_genres: int | None = EXPECTED_GENRES,
    verify_checksum: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Path:
    """Download and verify the dataset; returns the path of the cached CSV.

    ``expected_*`` = None skips that check; ``verify_checksum=False`` turns a checksum mismatch
    into a warning (rows, genres and header are still checked).
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    final = cache / DATASET_FILE
    fd, tmp_name = tempfile.mkstemp(dir=cache, prefix=f".{DATASET_FILE}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        log.info("downloading %s (timeout %.0f s)", url, timeout)
        started = time.monotonic()
        sha256 = _fetch(url, tmp, timeout)
        rows, genres = inspect_csv(tmp)
        if expected_rows is not None and rows != expected_rows:
            raise SpotrecError(
                f"downloaded file has {rows:,} data rows, expected {expected_rows:,}"
            )
        if expected_genres is not None and genres != expected_genres:
            raise SpotrecError(f"downloaded file has {genres} genres, expected {expected_genres}")
        if expected_sha256 and sha256 != expected_sha256:
            message = f"downloaded file has sha256 {sha256}, expected {expected_sha256}"
            if verify_checksum:
                raise SpotrecError(
                    f"{message}. The file may have changed upstream; rerun with "
                    "--no-verify-checksum to accept it anyway."
                )
            log.warning("%s (accepted: --no-verify-checksum)", message)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    sidecar = {
        "sha256": sha256,
        "rows": rows,
        "genres": genres,
        "bytes": final.stat().st_size,
        "url": url,
        "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.monotonic() - started, 2),
    }
    side_tmp = cache / f".{SIDECAR_FILE}.tmp"
    side_tmp.write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    os.replace(side_tmp, cache / SIDECAR_FILE)
    log.info("saved %s: %s", final, sidecar)
    return final


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache",
        default=None,
        help="cache directory (default: $SPOTREC_CACHE or ~/.cache/spotrec)",
    )
    parser.add_argument(
        "--url", default=DATASET_URL, help="where to fetch from (default: %(default)s)"
    )
    parser.add_argument(
        "--no-verify-checksum",
        dest="verify_checksum",
        action="store_false",
        help="accept a file whose sha256 differs from the known one (rows, genres still checked)",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="network timeout in seconds"
    )


def run(args: argparse.Namespace) -> int:
    path = download_dataset(
        args.cache, url=args.url, verify_checksum=args.verify_checksum, timeout=args.timeout
    )
    print(f"saved {path}; build with: spotrec build --data {path}")
    return 0
