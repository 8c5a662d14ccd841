"""Full pools under tunable filters (issue 9): prints the three targets per store variant.

    python benchmarks/bench_tuning.py --store STORE.sqlite [--requests 1000] [--seed 0]
        [--variants depth200+pools,depth200,depth50+pools,depth50]

STORE is a release written with fallback pools (the default writer: `spotrec build` or
`spotrec.writers.sqlite.write_store`), its lists at least as deep as the deepest variant.
Variants are read through a wrapper store, so one file serves them all: ``depthD`` cuts every
N# list to D (and META depth/top_n to at most D), ``+pools`` keeps the P#/GC# fallback pools
(without it META says fallback_pool_size 0, as a release written before pools), ``poolsK``
cuts the pools to K tracks.

Requests (the same seeded draws for every variant), to --model (default: the release's):
* **filtered**: one random seed track (uniform over the catalogue), limit=20, and ONE filter
  the seed itself satisfies: a random attribute of the 14, min_ or max_ at random, the bound
  uniform between the catalogue's extreme and the seed's exact value (an integer attribute
  draws an integer). Target: >= 95% return the full 20.
* every track returned by a filtered request is checked against its EXACT T# value.
  Target: 0 violations.
* **limit=100**: one random seed, no filter. Target: every request returns 100.
Also printed: p50/p99 of the filtered requests (warm process; timings under the machine's
load, compare variants of one run only) and the mean get_items calls per request.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import time
from pathlib import Path

from spotrec_serving.items import FEATURES, META_KEY, pack_list, track_key, unpack_list
from spotrec_serving.recommend import RecommendationRequest, recommend
from spotrec_serving.release import current_release
from spotrec_serving.sqlite_store import SqliteStore
from spotrec_serving.tuned_pool import exact_features
from spotrec_serving.tuning import ATTRIBUTE_RANGES, Tuning, satisfies


class VariantStore:
    """The file's release as if written with other list depths / without pools."""

    def __init__(self, store: SqliteStore, depth: int, pools: bool, pool_size: int | None):
        self.store, self.depth, self.pools, self.pool_size = store, depth, pools, pool_size
        self.calls = 0

    def current_run(self) -> str:
        return self.store.current_run()

    def get_items(self, run_id: str, keys):
        self.calls += 1
        docs = self.store.get_items(run_id, keys)
        for key, body in list(docs.items()):
            if key == META_KEY:
                depth = min(int(body.get("depth") or self.depth), self.depth)
                top_n = min(int(body.get("top_n") or depth), depth)
                docs[key] = {**body, "depth": depth, "top_n": top_n}
                if not self.pools:
                    docs[key]["fallback_pool_size"] = 0
            elif key.startswith("N#"):
                docs[key] = cut(body, self.depth)
            elif key.startswith("P#") and self.pool_size:
                docs[key] = cut(body, self.pool_size)
        return docs


def cut(body: bytes, depth: int) -> bytes:
    ranked = unpack_list(body)
    n = min(depth, len(ranked))
    scores = [ranked.score(r) for r in range(n)]
    return pack_list(ranked.seed, list(ranked.indexes[:n]), scores)


def parse_variant(text: str) -> tuple[int, bool, int | None]:
    parts = text.split("+")
    depth = int(parts[0].removeprefix("depth"))
    pools = any(p.startswith("pools") for p in parts[1:])
    sizes = [int(p.removeprefix("pools")) for p in parts[1:] if p.removeprefix("pools")]
    return depth, pools, sizes[0] if sizes else None


def draw_requests(store: SqliteStore, count: int, rng: random.Random) -> list[tuple]:
    """(seed id, Tuning) pairs: one filter the seed satisfies (see the module docstring)."""
    release = current_release(store)
    ranges = release.meta["feature_ranges"]
    from spotrec_serving.release import release_catalogue

    catalogue = release_catalogue(store, release)
    seeds = [catalogue.track_id(rng.randrange(len(catalogue))) for _ in range(count)]
    docs = {}
    for start in range(0, count, 100):
        keys = [track_key(s) for s in seeds[start : start + 100]]
        docs.update(store.get_items(release.run_id, keys))
    drawn = []
    for seed in seeds:
        values = exact_features(docs[track_key(seed)])
        attribute = rng.choice(FEATURES)
        lo, hi, _ = ranges[attribute]
        integer = ATTRIBUTE_RANGES[attribute][0]
        value = values[attribute]
        if rng.random() < 0.5:  # min_: between the catalogue's minimum and the seed's value
            bound = rng.randint(int(lo), int(value)) if integer else rng.uniform(lo, value)
            drawn.append((seed, Tuning(minimums={attribute: bound})))
        else:
            bound = rng.randint(int(value), int(hi)) if integer else rng.uniform(value, hi)
            drawn.append((seed, Tuning(maximums={attribute: bound})))
    return drawn


def run_variant(store: VariantStore, drawn, limit_seeds, model: str | None = None) -> dict:
    full = violations = 0
    times = []
    run_id = store.current_run()
    ask = functools.partial(RecommendationRequest, model=model)
    seed, tuning = drawn[0]  # warm the caches: META, catalogue columns, genre codes
    recommend(store, "http://x", ask(seed_tracks=(seed,), tuning=tuning, limit=100))
    store.calls = 0
    for seed, tuning in drawn:
        begin = time.perf_counter()
        answer = recommend(store, "http://x", ask(seed_tracks=(seed,), limit=20, tuning=tuning))
        times.append(time.perf_counter() - begin)
        got = [t["id"] for t in answer["tracks"]]
        full += len(got) == 20
        docs = store.store.get_items(run_id, [track_key(t) for t in got])
        violations += sum(not satisfies(exact_features(docs[track_key(t)]), tuning) for t in got)
    calls = store.calls / len(drawn)
    hundred = sum(
        len(recommend(store, "http://x", ask(seed_tracks=(seed,), limit=100))["tracks"]) == 100
        for seed in limit_seeds
    )
    times.sort()
    return {
        "full": full / len(drawn),
        "violations": violations,
        "hundred": hundred / len(limit_seeds),
        "p50": statistics.median(times) * 1000,
        "p99": times[int(0.99 * (len(times) - 1))] * 1000,
        "calls": calls,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--limit-requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", help="the release's model to ask (default: its default)")
    parser.add_argument("--variants", default="depth200+pools,depth200,depth50+pools,depth50")
    args = parser.parse_args()
    base = SqliteStore(args.store)
    rng = random.Random(args.seed)
    drawn = draw_requests(base, args.requests, rng)
    limit_seeds = [seed for seed, _ in draw_requests(base, args.limit_requests, rng)]
    print(
        f"{args.requests} filtered requests (limit 20, one filter the seed satisfies), "
        f"{args.limit_requests} limit=100 requests; store {args.store}, model "
        f"{args.model or 'default'}\n"
    )
    print("| variant | full limit=20 (target >= 95%) | filter violations (target 0) "
          "| limit=100 full (target 100%) | p50 ms | p99 ms | get_items / request |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for text in args.variants.split(","):
        store = VariantStore(base, *parse_variant(text))
        figures = run_variant(store, drawn, limit_seeds, args.model)
        print(
            f"| {text} | {figures['full']:.1%} | {figures['violations']} | "
            f"{figures['hundred']:.1%} | {figures['p50']:.2f} | {figures['p99']:.2f} | "
            f"{figures['calls']:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
