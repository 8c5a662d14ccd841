"""A bounded locust run (headless) against `spotrec serve` on 127.0.0.1: used by the load test
(tests/integration/test_load.py, 10 s) and benchmarks/bench_load.py (60 s, SQLite and DynamoDB
on a moto server). The server runs as its own process (`spotrec serve`), as a user runs it.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parent / "load_locustfile.py"
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class LoadResult:
    users: int
    seconds: int
    requests: int
    failures: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failure_kinds: tuple[str, ...] = ()  # "<count>x <method> <name>: <error>", from locust

    def line(self, label: str) -> str:
        return (
            f"{label:<10} users {self.users:>2}  {self.seconds} s  {self.requests:>7} requests  "
            f"{self.requests_per_second:8.1f} req/s  p50 {self.p50_ms:5.0f} ms  "
            f"p99 {self.p99_ms:5.0f} ms  errors {self.failures}"
        ) + "".join(f"\n    {kind}" for kind in self.failure_kinds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_process(
    store: Path | None, log_file: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`spotrec serve` in a subprocess (store=None: SPOTREC_TABLE in env), its log (one line
    per request) in ``log_file``; yields its URL."""
    port = free_port()
    argv = [sys.executable, "-m", "spotrec.cli", "serve", "--port", str(port)]
    if store is not None:
        argv += ["--store", str(store)]
    log = open(log_file, "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(
        argv, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/v1/openapi.json", timeout=2).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"spotrec serve did not start: {log_file.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def run_locust(
    url: str, data: dict, workdir: Path, *, users: int = 16, seconds: int = 60
) -> LoadResult:
    """locust headless, ``users`` clients spawned at once, for ``seconds``; the aggregate."""
    workdir.mkdir(parents=True, exist_ok=True)
    data_file = workdir / "load_data.json"
    data_file.write_text(json.dumps(data))
    prefix = workdir / "locust"
    argv = [
        str(BIN / "locust"),
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--host",
        url,
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    env = {**os.environ, "SPOTREC_LOAD_DATA": str(data_file)}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 120)
    if result.returncode != 0:
        raise RuntimeError(f"locust failed: {result.stderr[-3000:]}")
    with open(f"{prefix}_stats.csv", newline="") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    with open(f"{prefix}_failures.csv", newline="") as handle:
        kinds = tuple(
            f"{row['Occurrences']}x {row['Method']} {row['Name']}: {row['Error'][:200]}"
            for row in csv.DictReader(handle)
        )
    return LoadResult(
        users=users,
        seconds=seconds,
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        requests_per_second=float(total["Requests/s"]),
        p50_ms=float(total["50%"]),
        p99_ms=float(total["99%"]),
        failure_kinds=kinds,
    )


def load_data(track_ids: list[str]) -> dict:
    return {"track_ids": track_ids, "search_words": ["song", "artist", "album", "genre1", "so"]}
