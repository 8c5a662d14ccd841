"""Handler figures on a build: cold import time, warm p50/p99 of a 5-seed recommendation and of
searches through `app.lambda_handler` with the real API Gateway events of tests/events/.

    python benchmarks/bench_handler.py --store BUILD_DIR [--write-store] [--repeat 2000]

--write-store first (re)writes BUILD_DIR/store.sqlite (or --store-path) from the build with the
batch writer and prints its time, peak RSS and items/bytes per kind. Targets: import <= 300 ms,
warm p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = ROOT / "lambda"
EVENTS_DIR = ROOT / "tests" / "events"


def write_store(build_dir: Path, store_path: Path) -> None:
    from spotrec.writers.sqlite import write_store as write

    started, cpu_started = time.perf_counter(), time.process_time()
    write(build_dir, path=store_path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"write_store: {seconds:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak_mb:.0f} MB, "
        f"file {mb(store_path)} MB, load average {os.getloadavg()[0]:.1f}"
    )
    counts: dict[str, int] = defaultdict(int)
    sizes: dict[str, int] = defaultdict(int)
    largest: dict[str, int] = defaultdict(int)
    with sqlite3.connect(store_path) as connection:
        rows = connection.execute("SELECT pk, length(CAST(body AS BLOB)) FROM items")
        for pk, size in rows:
            logical = pk.split("#", 1)[1] if "#" in pk else pk
            parts = logical.split("#")
            kind = "#".join(parts[:2]) if parts[0] in ("N", "G") else parts[0]
            counts[kind] += 1
            sizes[kind] += size
            largest[kind] = max(largest[kind], size)
    print(f"{'kind':<12}{'items':>10}{'MB':>10}{'mean B':>10}{'max B':>10}")
    for kind in sorted(counts):
        n, total = counts[kind], sizes[kind]
        print(f"{kind:<12}{n:>10}{total / 1e6:>10.1f}{total / n:>10.0f}{largest[kind]:>10}")


def mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.0f}"


def cold_import_ms(runs: int) -> list[float]:
    code = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=LAMBDA_DIR, capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout.strip().splitlines()[-1]) * 1000)
    return times


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50:.2f} ms  p99 {p99:.2f} ms  (n={len(ordered)})"


def event(name: str, **query: str) -> dict:
    data = json.loads((EVENTS_DIR / f"{name}.json").read_text())
    data["queryStringParameters"] = query
    data["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return data


def pick_seeds(store_path: Path, count: int) -> list[str]:
    """Popular tracks spread through the catalogue (deterministic)."""
    with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True) as connection:
        run_id = json.loads(
            connection.execute("SELECT body FROM items WHERE pk = 'CURRENT'").fetchone()[0]
        )["run_id"]
        rows = connection.execute(
            "SELECT substr(pk, ?) FROM items WHERE pk >= ? AND pk < ? ORDER BY pk",
            (len(run_id) + 4, f"{run_id}#T#", f"{run_id}#T$"),
        ).fetchall()
    step = max(1, len(rows) // count)
    return [rows[i * step][0] for i in range(count)]


def time_handler(handler, request: dict, repeat: int) -> list[float]:
    for _ in range(50):  # warm: connection open, CURRENT and META cached
        response = handler(request, None)
    if response["statusCode"] != 200:
        raise SystemExit(f"request failed: {response['body'][:300]}")
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        handler(request, None)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True, help="build directory")
    parser.add_argument("--store-path", type=Path, help="store file (default DIR/store.sqlite)")
    parser.add_argument("--write-store", action="store_true", help="write the store first")
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--imports", type=int, default=7)
    args = parser.parse_args()
    store_path = args.store_path or args.store / "store.sqlite"
    if args.write_store:
        write_store(args.store, store_path)

    imports = cold_import_ms(args.imports)
    print(
        f"cold import of app: median {statistics.median(imports):.0f} ms "
        f"(min {min(imports):.0f}, max {max(imports):.0f}, n={len(imports)})"
    )

    os.environ["SPOTREC_STORE"] = str(store_path)
    # EMF metric lines would interleave with the figures; in Lambda they cost one stdout write.
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    sys.path.insert(0, str(LAMBDA_DIR))
    import logging

    logging.disable(logging.INFO)  # keep per-request log lines out of the timing
    import app

    seeds = pick_seeds(store_path, 5)
    requests = {
        "recommend 5 seeds, limit 20": event("recommend", seed_tracks=",".join(seeds), limit="20"),
        "recommend 5 seeds, per_seed 10": event(
            "recommend", seed_tracks=",".join(seeds), per_seed="10"
        ),
        "search 'love' (1 word)": event("search", q="love", type="track", limit="20"),
        "search 'the beat' (2 words)": event("search", q="the beat", type="track", limit="20"),
        "search 'beyonce halo'": event("search", q="beyonce halo", type="track", limit="20"),
    }
    for label, request in requests.items():
        print(f"{label:<34}{percentiles(time_handler(app.lambda_handler, request, args.repeat))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
