"""How many release items a 1% catalogue change touches (what an incremental publish would write).

    python benchmarks/bench_incremental.py [--tracks 3000] [--top-n 200] [--change 0.01]

Synthesizes a catalogue, appends `change` x tracks more (a second synthetic catalogue's
first rows, with fresh ids), builds both with the cosine model, and compares the two releases
item by item (logical key and body bytes, as `spotrec publish` would write them). Also
compares neighbour lists as track ids rather than bytes, which separates "the list really
changed" from "catalogue indexes shifted". Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import importlib
import tempfile
from collections import Counter
from pathlib import Path


def command(module_name: str, argv: list[str]) -> None:
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    module.run(parser.parse_args(argv))


def rows(path: Path) -> tuple[list[str], list[list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def digests(build: Path) -> tuple[dict[str, bytes], dict[str, tuple[str, ...]]]:
    from spotrec.writers.items import iter_release_items
    from spotrec.writers.release_catalogue import load_release_catalogue
    from spotrec_serving.items import unpack_list

    ids = load_release_catalogue(build).ids
    by_key, lists = {}, {}
    for key, body in iter_release_items(build, run_id="same"):
        if key == "META":
            continue
        raw = body if isinstance(body, bytes) else repr(sorted(body.items())).encode()
        by_key[key] = hashlib.blake2b(raw, digest_size=8).digest()
        if key.startswith("N#"):
            lists[key] = tuple(ids[i] for i in unpack_list(body).indexes)
    return by_key, lists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=3000)
    parser.add_argument("--top-n", type=int, default=200)
    parser.add_argument("--change", type=float, default=0.01)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        base, extra, grown = root / "base.csv", root / "extra.csv", root / "grown.csv"
        command("spotrec.data.synth", ["--out", str(base), "--tracks", str(args.tracks)])
        added = max(1, round(args.tracks * args.change))
        command("spotrec.data.synth", ["--out", str(extra), "--tracks", str(added), "--seed", "7"])
        header, base_rows = rows(base)
        _, extra_rows = rows(extra)
        with open(grown, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(base_rows + extra_rows)
        builds = {}
        for name, data in (("base", base), ("grown", grown)):
            out = root / name
            argv = ["--data", str(data), "--out", str(out), "--models", "cosine"]
            command("spotrec.build", [*argv, "--top-n", str(args.top_n), "--no-store"])
            builds[name] = digests(out)
    (old, old_lists), (new, new_lists) = builds["base"], builds["grown"]
    changed: Counter[str] = Counter()
    for key, digest in new.items():
        if old.get(key) != digest:
            changed[key.split("#")[0]] += 1
    total = Counter(key.split("#")[0] for key in new)
    print(f"catalogue {args.tracks} + {added} tracks ({args.change:.0%}), lists top-{args.top_n}")
    for kind in sorted(total):
        print(f"  {kind}: {changed[kind]:,} of {total[kind]:,} items differ")
    print(f"  all: {sum(changed.values()):,} of {len(new):,} items would be written")
    same_ids = sum(1 for key, ids in new_lists.items() if old_lists.get(key) == ids)
    print(f"  N lists identical as track ids: {same_ids:,} of {len(new_lists):,}")


if __name__ == "__main__":
    main()
