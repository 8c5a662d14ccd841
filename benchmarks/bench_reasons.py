"""What the reasons per pick (spotrec_serving/reasons.py) add to a warm recommendation.

    python benchmarks/bench_reasons.py --store STORE.sqlite [--repeat 2000] [--model hybrid]

Calls ``recommend`` on a SQLite store (5 random track seeds with lists, limit 20, then per_seed
10), alternating in ONE loop a request with reasons and the same request with them switched off
(no extra keys, no facts, no per-pick reasons), so both see the same machine load (random order
within each round). Prints p50 and p99 of each and their difference, in wall time and in the
thread's CPU time (which a loaded machine's scheduling does not inflate). Target: reasons add
<= 1 ms p99.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lambda"))  # a script, not a shipped module

from spotrec_serving import reasons  # noqa: E402
from spotrec_serving.items import neighbours_key  # noqa: E402
from spotrec_serving.recommend import RecommendationRequest, recommend  # noqa: E402
from spotrec_serving.release import current_release, release_catalogue  # noqa: E402
from spotrec_serving.sqlite_store import SqliteStore  # noqa: E402


def percentile(samples: list[float], q: float) -> float:
    return (
        statistics.quantiles(samples, n=100, method="inclusive")[q - 1] if q < 100 else max(samples)
    )


def seeds_with_lists(store: SqliteStore, model: str, count: int, seed: int) -> tuple[str, ...]:
    release = current_release(store)
    catalogue = release_catalogue(store, release)
    rng = random.Random(seed)
    chosen: list[str] = []
    while len(chosen) < count:
        track = catalogue.track_id(rng.randrange(len(catalogue)))
        if store.get_items(release.run_id, [neighbours_key(model, track)]):
            chosen.append(track)
    return tuple(chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--model", default=None, help="default: the release's default model")
    args = parser.parse_args()
    store = SqliteStore(args.store)
    release = current_release(store)
    model = release.resolve_model(args.model)
    seeds = seeds_with_lists(store, model, 5, seed=7)
    real = (reasons.extra_keys, reasons.seed_facts)
    off = (lambda *a: [], lambda *a: [])
    print(f"store {args.store}, model {model}, top_n {release.meta['top_n']}, seeds {seeds}")
    for label, extra in (("limit 20", {"limit": 20}), ("per_seed 10", {"per_seed": 10})):
        request = RecommendationRequest(seed_tracks=seeds, model=model, **extra)
        recommend(store, "http://x", request)  # warm the caches
        wall: dict[bool, list[float]] = {True: [], False: []}
        cpu: dict[bool, list[float]] = {True: [], False: []}
        order = random.Random(1)
        for _ in range(args.repeat):
            # both variants in every round, in random order (no first-in-pair advantage)
            for with_reasons in order.sample((True, False), 2):
                reasons.extra_keys, reasons.seed_facts = real if with_reasons else off
                started, cpu_started = time.perf_counter(), time.thread_time()
                recommend(store, "http://x", request)
                cpu[with_reasons].append((time.thread_time() - cpu_started) * 1000)
                wall[with_reasons].append((time.perf_counter() - started) * 1000)
        reasons.extra_keys, reasons.seed_facts = real
        for clock, timings in (("wall", wall), ("CPU", cpu)):
            on, plain = timings[True], timings[False]
            p50 = (percentile(plain, 50), percentile(on, 50))
            p99 = (percentile(plain, 99), percentile(on, 99))
            print(
                f"{label:<12} {clock:<4} p50 {p50[0]:.2f} / {p50[1]:.2f} ms "
                f"(+{p50[1] - p50[0]:.2f}); p99 {p99[0]:.2f} / {p99[1]:.2f} ms "
                f"(+{p99[1] - p99[0]:.2f})  [without / with]"
            )
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
