"""Release size and serving latency of the compact layout (schema 2), next to the old layout.

    python benchmarks/bench_release.py --from BUILD_DIR [--main /work/main] [--repeat 2000]

BUILD_DIR is a cosine build with --top-n 200 (e.g. `spotrec build --models cosine --top-n 200`).
From it the script derives, in a scratch directory:

* the same build cut to top-50 (the old default depth);
* a "four-model" build whose four lists per track are cosine's, copied under the names
  cosine/autoencoder/transformer/blend. Store size depends on the number of lists and their
  depth, not on which model filled them, so this sizes the four-model store without
  training the learned models.

It prints, per variant: the SQLite store file size, bytes per item kind, and the DynamoDB
bytes of the release (DynamoDB's item-size accounting: attribute names + values, summed over
the items `spotrec publish` writes). With --main, the old layout is written by the main
checkout's own writer (a subprocess with its PYTHONPATH) from the top-50 cosine build and its
handler timed by the main checkout's bench_handler.py in the same run, next to this layout's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOUR_MODELS = ("cosine", "autoencoder", "transformer", "blend")


def derive(build: Path, out: Path, depth: int, models: tuple[str, ...]) -> Path:
    """A build dir with `models`' lists = the build's cosine lists cut to `depth`."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from spotrec import schema

    if (out / schema.MANIFEST_FILE).is_file():  # derived by an earlier run (written last)
        return out
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(build / schema.TRACKS_FILE, out / schema.TRACKS_FILE)
    (out / schema.NEIGHBOURS_DIR).mkdir(exist_ok=True)
    table = pq.read_table(build / schema.NEIGHBOURS_DIR / "cosine.parquet")
    table = table.filter(pc.less_equal(table[schema.NB_RANK], depth))
    for model in models:
        pq.write_table(table, out / schema.NEIGHBOURS_DIR / f"{model}.parquet")
    manifest = json.loads((build / schema.MANIFEST_FILE).read_text())
    manifest.update(models=list(models), default_model="cosine", top_n=depth)
    (out / schema.MANIFEST_FILE).write_text(json.dumps(manifest))
    return out


def kind_of(pk: str) -> str:
    logical = pk.split("#", 1)[1] if "#" in pk else pk
    parts = logical.split("#")
    return parts[0] if parts[0] in ("N", "G") else logical.split("#")[0]


def store_figures(path: Path, run_id_bytes: int) -> tuple[dict, int]:
    """Per kind (items, body bytes) and the DynamoDB bytes of the release in `path`."""
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    dynamo = 0
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        for pk, size in connection.execute("SELECT pk, length(CAST(body AS BLOB)) FROM items"):
            if pk == "CURRENT":
                continue
            figures = per_kind[kind_of(pk)]
            figures[0] += 1
            figures[1] += size
            # pk + body + run_id + expires_at (new) or run_part (old), with attribute names
            dynamo += len(pk) + size + run_id_bytes + 2 + 4 + 6 + 16
    return dict(per_kind), dynamo


def report(label: str, path: Path, seconds: float, run_id: str) -> int:
    per_kind, dynamo = store_figures(path, len(run_id))
    print(f"\n{label}: {path.stat().st_size / 1e6:,.1f} MB SQLite, written in {seconds:.1f} s")
    for kind, (items, size) in sorted(per_kind.items()):
        print(f"    {kind:<4}{items:>9,} items {size / 1e6:>9.1f} MB  {size / items:>8.0f} B/item")
    print(f"    DynamoDB bytes of the release: {dynamo / 1e6:,.1f} MB")
    return dynamo


def write_new(build: Path, depth: int) -> tuple[Path, float]:
    from spotrec.writers.sqlite import write_store

    started = time.perf_counter()
    path = write_store(build, path=build / f"store-d{depth}.sqlite", depth=depth)
    return path, time.perf_counter() - started


def main_env(main: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{main}/batch:{main}/lambda"}


def write_old(main: Path, build: Path) -> tuple[Path, float]:
    path = build / "store-old.sqlite"
    code = (
        "import sys; from pathlib import Path; from spotrec.writers.sqlite import write_store; "
        "write_store(Path(sys.argv[1]), path=Path(sys.argv[2]))"
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, str(build), str(path)], env=main_env(main), check=True
    )
    return path, time.perf_counter() - started


def time_handler(repo: Path, build: Path, store: Path, repeat: int, env: dict) -> str:
    out = subprocess.run(
        [
            sys.executable,
            str(repo / "benchmarks" / "bench_handler.py"),
            "--store",
            str(build),
            "--store-path",
            str(store),
            "--repeat",
            str(repeat),
            "--imports",
            "1",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(f"    {line}" for line in out.splitlines() if "recommend" in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="build", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/spotrec-bench-release"))
    parser.add_argument("--main", type=Path, help="a checkout with the old layout (e.g. main)")
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument(
        "--variants",
        default="cosine-50,cosine-200,four-50,four-200",
        help="which compact stores to write and time (default: all four)",
    )
    args = parser.parse_args()
    wanted = set(args.variants.split(","))
    run_id = json.loads((args.build / "manifest.json").read_text())["run_id"]
    cosine50 = derive(args.build, args.work / "cosine-50", 50, ("cosine",))
    cosine200 = derive(args.build, args.work / "cosine-200", 200, ("cosine",))
    four = derive(args.build, args.work / "four-200", 200, FOUR_MODELS)
    new = {}
    for name, label, build, depth in (
        ("cosine-50", "cosine, depth 50", cosine50, 50),
        ("cosine-200", "cosine, depth 200", cosine200, 200),
        ("four-50", "four models, depth 50", four, 50),
        ("four-200", "four models, depth 200", four, 200),
    ):
        if name not in wanted:
            continue
        path, seconds = write_new(build, depth)
        new[label] = (path, build, report(f"compact layout, {label}", path, seconds, run_id))
    if args.main:
        old_path, seconds = write_old(args.main, cosine50)
        old_dynamo = report("old layout (main), cosine, depth 50", old_path, seconds, run_id)
        for label in [k for k in new if k.startswith("cosine")]:
            ratio = old_dynamo / new[label][2]
            print(f"DynamoDB bytes, old cosine depth 50 / compact {label}: {ratio:.1f}x")
        print("\nwarm handler, same seeds, same run (old first):")
        print("  old layout (main's handler):")
        print(time_handler(args.main, cosine50, old_path, args.repeat, main_env(args.main)))
    env = {**os.environ, "PYTHONPATH": f"{ROOT}/batch:{ROOT}/lambda"}
    for label in new:
        path, build, _ = new[label]
        print(f"  compact layout, {label}:")
        print(time_handler(ROOT, build, path, args.repeat, env))
    return 0


if __name__ == "__main__":
    sys.exit(main())
