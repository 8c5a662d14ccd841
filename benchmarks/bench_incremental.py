"""Items an incremental publish writes for a ~1% catalogue change, on a moto server over HTTP.

    python benchmarks/bench_incremental.py [--tracks 3000] [--top-n 200] [--change 0.01]

Synthesizes a catalogue A, and B = A with `change` x tracks added (a second synthetic
catalogue's tracks, fresh ids) and `--remove` x tracks removed. Builds A, then B twice with the
cosine model: once from scratch, once with `spotrec build --previous A` (A's feature scaling
kept). Then:

1. item by item, how many of B's items differ from A's (logical key and stored bytes), with
   tracks numbered in B's own order or in A's (carried order), with and without the carried
   scaling; what separates "the content changed" from "indexes or scores merely shifted";
2. how many items a part-level carry writes: one map over all kinds for part counts P,
   or one map per kind (what the publisher does);
3. the real thing: `spotrec publish` of A, then of B incrementally, on a moto server over
   HTTP on 127.0.0.1 (items written / carried per kind, read from the table), and a full
   publish of B for comparison. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import json
import logging
import os
import socket
import tempfile
import time
from collections import Counter
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
PART_COUNTS = (256, 1024, 4096, 16384, 65536)


def command(module_name: str, argv: list[str]) -> None:
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    module.run(parser.parse_args(argv))


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def kind(key: str) -> str:
    return key.split("#")[0]


def digests(build: Path, order: list[str] | None = None) -> dict[str, bytes]:
    from spotrec.writers.items import encode_body, iter_release_items

    out = {}
    for key, body in iter_release_items(build, order=order):
        if key != "META":
            stored = encode_body(key, body)
            raw = stored if isinstance(stored, bytes) else stored.encode()
            out[key] = hashlib.blake2b(raw, digest_size=8).digest()
    return out


def differing(old: dict[str, bytes], new: dict[str, bytes]) -> Counter[str]:
    return Counter(kind(key) for key, digest in new.items() if old.get(key) != digest)


def written_with_parts(old: dict[str, bytes], new: dict[str, bytes], parts: int | None) -> int:
    """Items written when a changed part is written whole: one map of `parts` parts over all
    kinds, or (parts None) one map per kind sized like the publisher's (parts.py)."""
    from spotrec.writers.incremental import fresh_count
    from spotrec_serving.parts import part_of

    sizes = Counter(kind(key) for key in old)

    def place(key: str) -> tuple[str, int]:
        if parts is not None:
            return "", part_of(key, parts)
        return kind(key), part_of(key, fresh_count(sizes[kind(key)] or 1))

    changed = {place(key) for key, digest in new.items() if old.get(key) != digest}
    changed |= {place(key) for key in old.keys() - new.keys()}  # removed items
    return sum(1 for key in new if place(key) in changed)


def make_catalogues(root: Path, tracks: int, change: float, remove: float) -> tuple[Path, Path]:
    base, extra, grown = root / "a.csv", root / "extra.csv", root / "b.csv"
    command("spotrec.data.synth", ["--out", str(base), "--tracks", str(tracks)])
    added = max(1, round(tracks * change))
    argv = ["--out", str(extra), "--tracks", str(max(20, added)), "--seed", "7"]
    command("spotrec.data.synth", argv)
    header, rows = read_rows(base)
    _, extra_rows = read_rows(extra)
    col = header.index("track_id")
    new_ids = list(dict.fromkeys(row[col] for row in extra_rows))[:added]
    ids = list(dict.fromkeys(row[col] for row in rows))
    gone = set(ids[:: max(1, round(1 / remove))][: round(tracks * remove)]) if remove else set()
    kept = [row for row in rows if row[col] not in gone]
    with open(grown, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *kept, *[r for r in extra_rows if r[col] in new_ids]])
    print(f"catalogue A {len(ids):,} tracks; B = A + {added:,} new - {len(gone):,} removed")
    return base, grown


def moto_endpoint():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
    )
    return server


def run_kinds(table: str, run_id: str) -> Counter[str]:
    import boto3

    client = boto3.client("dynamodb")
    counts: Counter[str] = Counter()
    for page in client.get_paginator("scan").paginate(TableName=table, ProjectionExpression="pk"):
        for item in page["Items"]:
            pk = item["pk"]["S"]
            if pk.startswith(run_id + "#") and not pk.endswith("#RELEASE"):
                counts[kind(pk.removeprefix(run_id + "#"))] += 1
    return counts


def publish_figures(builds: dict[str, Path], total: Counter[str]) -> None:
    from spotrec.writers import aws

    server = moto_endpoint()
    try:
        rows = []
        for label, table, build, incremental in (
            ("A, first publish", "bench", builds["a"], True),
            ("B incremental (A's scaling)", "bench", builds["carried"], True),
            ("B full (--full)", "bench-full", builds["carried"], False),
        ):
            target = aws.Target(table=table, bucket="bench", incremental=incremental)
            started = time.monotonic()
            result = aws.publish(build, target, create_missing=True, template_path=TEMPLATE)
            seconds = time.monotonic() - started
            run_id = json.loads((build / "manifest.json").read_text())["run_id"]
            rows.append((label, result, seconds, run_kinds(table, run_id)))
    finally:
        server.stop()
    print("\npublish to a moto server over HTTP (workers 4):")
    for label, result, seconds, kinds in rows:
        per_kind = ", ".join(f"{k} {kinds[k]:,}/{total[k]:,}" for k in sorted(total))
        print(
            f"  {label}: {result.items_written:,} items written, {result.items_carried:,} "
            f"carried, {result.bytes_written / 1e6:.2f} MB, {seconds:.1f} s "
            f"(phases {', '.join(f'{k} {v:.1f}' for k, v in result.phase_seconds.items())})"
            f"\n    written per kind (of B's): {per_kind}"
        )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=3000)
    parser.add_argument("--top-n", type=int, default=200)
    parser.add_argument("--change", type=float, default=0.01, help="share of tracks added")
    parser.add_argument("--remove", type=float, default=0.0, help="share of tracks removed")
    parser.add_argument("--no-publish", action="store_true", help="skip the moto publish")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        base, grown = make_catalogues(root, args.tracks, args.change, args.remove)
        builds = {name: root / name for name in ("a", "fresh", "carried")}
        for name, data, previous in (
            ("a", base, None),
            ("fresh", grown, None),
            ("carried", grown, builds["a"]),
        ):
            argv = ["--data", str(data), "--out", str(builds[name]), "--models", "cosine"]
            argv += ["--top-n", str(args.top_n), "--no-store"]
            command("spotrec.build", argv + (["--previous", str(previous)] if previous else []))
        from spotrec.writers.release_catalogue import load_release_catalogue

        order = load_release_catalogue(builds["a"]).ids
        old = digests(builds["a"])
        cases = {
            "B's own order, B's scaling (before this change)": digests(builds["fresh"]),
            "A's order, B's scaling": digests(builds["fresh"], order),
            "A's order, A's scaling (build --previous)": digests(builds["carried"], order),
        }
        total = Counter(kind(key) for key in cases["A's order, B's scaling"])
        total["META"] = 1
        print(f"\nitems of B that differ from A's, item by item (lists top-{args.top_n}):")
        for label, new in cases.items():
            diff = differing(old, new)
            kinds = ", ".join(f"{k} {diff[k]:,}/{total[k]:,}" for k in sorted(total) if k != "META")
            print(f"  {label}: {sum(diff.values()):,} of {len(new):,} ({kinds})")
        new = cases["A's order, A's scaling (build --previous)"]
        print("\nitems written (+ META) when a changed part is written whole:")
        for parts in PART_COUNTS:
            written = written_with_parts(old, new, parts) + 1
            print(f"  one map over all kinds, P={parts:>6,}: {written:,} of {len(new) + 1:,}")
        written = written_with_parts(old, new, None) + 1
        print(f"  one map per kind (the publisher's): {written:,} of {len(new) + 1:,}")
        print(f"  per item (ideal): {sum(differing(old, new).values()) + 1:,}")
        if not args.no_publish:
            publish_figures(builds, total)


if __name__ == "__main__":
    main()
