"""AWS figures on a local moto server (loopback HTTP), printed, not asserted:

* publish throughput: items/s of `spotrec publish` (S3 upload + BatchWriteItem + verify),
  seconds per phase, and the DynamoDB bytes of the release (item-size accounting);
* handler warm p50/p99 of a 5-seed recommendation from DynamoDB (moto server), next to the
  same request from the build's SQLite store, in the same run;
* the built Lambda package size (.aws-sam/build), with --sam-build.

    python benchmarks/bench_publish.py [--from BUILD_DIR | --tracks 5000 --top-n 200] [--repeat 500]
        [--workers 4] [--sam-build]

Without --from it synthesizes a catalogue and builds the cosine model first. moto is far slower
than DynamoDB per call and runs on the same 2 cores, so the DynamoDB latencies here are an upper
bound on the client-side cost, not a prediction of AWS latency.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spotrec.lambda_package import SIZE_TARGET_BYTES, package_sizes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the tests' local-AWS helpers: one moto server recipe


def command(module_name: str, argv: list[str]) -> None:
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    module.run(parser.parse_args(argv))


def synthetic_build(workdir: Path, tracks: int, top_n: int) -> Path:
    csv, out = workdir / "catalogue.csv", workdir / "build"
    command("spotrec.data.synth", ["--out", str(csv), "--tracks", str(tracks)])
    argv = ["--data", str(csv), "--out", str(out), "--models", "cosine", "--top-n", str(top_n)]
    command("spotrec.build", argv)
    return out


def bench_publish(build: Path, workers: int) -> str:
    from spotrec.writers import aws

    table = "spotrec-bench"
    target = aws.Target(table=table, bucket="spotrec-bench", workers=workers)
    result = aws.publish(build, target, create_missing=True, template_path=ROOT / "template.yaml")
    rate = result.items_written / result.seconds
    print(
        f"publish: {result.items_written} items in {result.seconds:.1f} s = {rate:,.0f} items/s "
        f"(workers={workers}, unprocessed retries {result.write_retries}, incl. S3 + verify)"
    )
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.phase_seconds.items())
    print(f"publish phases: {phases}; {result.read_back} items read back")
    print(
        f"DynamoDB bytes of the release: {result.bytes_written / 1e6:,.1f} MB "
        f"({result.bytes_written / result.items_written:,.0f} B/item)"
    )
    return table


def recommend_event(build: Path) -> dict:
    import pyarrow.parquet as pq

    ids = pq.read_table(build / "tracks.parquet", columns=["track_id"])["track_id"].to_pylist()
    event = json.loads((ROOT / "tests" / "events" / "recommend.json").read_text())
    seeds = ",".join(ids[:5])
    event["queryStringParameters"] = {"seed_tracks": seeds, "limit": "20"}
    event["multiValueQueryStringParameters"] = {"seed_tracks": [seeds], "limit": ["20"]}
    return event


def latencies(handler, event: dict, repeat: int) -> list[float]:
    from spotrec.server import LocalLambdaContext

    context = LocalLambdaContext("bench")
    for _ in range(20):  # warm: imports, store, META cache, CURRENT cache
        assert handler(event, context)["statusCode"] == 200
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = handler(event, context)
        samples.append((time.perf_counter() - started) * 1000)
        assert response["statusCode"] == 200, response["body"]
    return samples


def report(label: str, samples: list[float]) -> None:
    cuts = statistics.quantiles(samples, n=100)
    print(f"{label:<28} p50 {cuts[49]:6.2f} ms   p99 {cuts[98]:6.2f} ms   (n={len(samples)})")


def bench_handler(build: Path, table: str, repeat: int) -> None:
    from spotrec.server import load_lambda_handler

    handler = load_lambda_handler()
    event = recommend_event(build)
    for name in ("SPOTREC_TABLE", "SPOTREC_STORE"):
        os.environ.pop(name, None)
    if not (build / "store.sqlite").is_file():  # a `spotrec build --no-store` build
        from spotrec.writers.sqlite import write_store

        write_store(build)
    os.environ["SPOTREC_STORE"] = str(build)
    sqlite = latencies(handler, event, repeat)
    os.environ.pop("SPOTREC_STORE")
    os.environ["SPOTREC_TABLE"] = table
    dynamodb = latencies(handler, event, repeat)
    report("5-seed recommend, SQLite", sqlite)
    report("5-seed recommend, DynamoDB", dynamodb)


def sam_build_size() -> None:
    build_dir = ROOT / ".aws-sam" / "build"
    subprocess.run(
        ["sam", "build", "--template", "template.yaml", "--build-dir", str(build_dir)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "SAM_CLI_TELEMETRY": "0",
            "PATH": f"{Path(sys.executable).parent}:" + os.environ.get("PATH", ""),
        },
    )
    function = build_dir / "ApiFunction"
    total, beyond = package_sizes(function)
    print(
        f"Lambda package {function}: {total / 1e6:.2f} MB unzipped, "
        f"{beyond / 1e6:.2f} MB beyond what the python3.11 runtime provides "
        f"(target {SIZE_TARGET_BYTES / 1e6:.2f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="build", type=Path, help="an existing build directory")
    parser.add_argument("--tracks", type=int, default=5000, help="synthetic catalogue size")
    parser.add_argument("--top-n", type=int, default=200, help="list depth of the synthetic build")
    parser.add_argument("--repeat", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sam-build", action="store_true", help="also measure .aws-sam/build")
    args = parser.parse_args()
    import logging

    # the publisher's progress lines (spotrec.publish) and the build's, with timestamps
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("spotrec").setLevel(logging.INFO)
    from aws_support import moto_server

    with moto_server(), tempfile.TemporaryDirectory() as workdir:
        build = args.build or synthetic_build(Path(workdir), args.tracks, args.top_n)
        table = bench_publish(build, args.workers)
        bench_handler(build, table, args.repeat)
    if args.sam_build:
        sam_build_size()


if __name__ == "__main__":
    main()
