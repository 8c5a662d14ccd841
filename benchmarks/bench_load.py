"""Bounded load test: locust headless against `spotrec serve` on 127.0.0.1, printed, not asserted
(except that errors must be 0: the exit code is 1 otherwise).

    python benchmarks/bench_load.py [--users 16] [--seconds 60] [--tracks 6000]
        [--stores sqlite,dynamodb]

The catalogue is the synthetic build of tests/api_support.py (--tracks tracks, 6 genres, 10
neighbours each); the client mix is tests/load_locustfile.py (60% recommendations with 1-5
seeds, then track, tracks?ids= (20), audio-features, search). `spotrec serve` runs as its own
process, one Lambda invocation at a time (as one Lambda instance would), so req/s is the
throughput of ONE instance on this machine, not of the deployed API (which scales out).
"dynamodb" publishes the build to a moto server on 127.0.0.1 and serves from it; moto is far
slower per call than DynamoDB and shares the same 2 cores, so those figures bound the client
side from above. Locust, the server and moto all share the machine's cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' helpers: one build, one locust recipe

from api_support import write_synthetic_build  # noqa: E402
from aws_support import moto_server  # noqa: E402
from load_support import LoadResult, load_data, run_locust, serve_process  # noqa: E402


def run_sqlite(build, workdir: Path, users: int, seconds: int) -> LoadResult:
    with serve_process(build.path, workdir / "serve-sqlite.log", {"SPOTREC_TABLE": ""}) as url:
        return run_locust(
            url, load_data(build.track_ids), workdir / "sqlite", users=users, seconds=seconds
        )


def run_dynamodb(build, workdir: Path, users: int, seconds: int) -> LoadResult:
    from spotrec.writers import aws

    table = "spotrec-load"
    with moto_server():
        target = aws.Target(table=table, bucket="spotrec-load")
        aws.publish(build.path, target, create_missing=True, template_path=ROOT / "template.yaml")
        with serve_process(None, workdir / "serve-dynamodb.log", {"SPOTREC_TABLE": table}) as url:
            return run_locust(
                url, load_data(build.track_ids), workdir / "dynamodb", users=users, seconds=seconds
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16, help="concurrent clients (8-32)")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--tracks", type=int, default=6000)
    parser.add_argument("--stores", default="sqlite,dynamodb")
    args = parser.parse_args()
    runners = {"sqlite": run_sqlite, "dynamodb": run_dynamodb}
    errors = 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        build = write_synthetic_build(workdir / "build", n_tracks=args.tracks, n_genres=6)
        print(
            f"catalogue: {args.tracks} synthetic tracks; locust {args.users} users, "
            f"{args.seconds} s per store"
        )
        for store in args.stores.split(","):
            result = runners[store](build, workdir, args.users, args.seconds)
            print(result.line(store), flush=True)
            errors += result.failures
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
