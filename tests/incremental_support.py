"""Helpers for the incremental-publish tests (a catalogue changed by ~1%, what must be written).

Used by tests/integration/test_incremental_publish.py (spotrec publish) and
test_aws_retrain.py (the scheduled retrain, which must carry the scaler the same way).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import boto3

from aws_support import REGION, run_command


def grown_catalogues(root: Path) -> tuple[Path, Path]:
    """Catalogue A (400 synthetic tracks) and B: A minus 2 tracks plus 4 new ones."""
    base, extra, grown = root / "a.csv", root / "extra.csv", root / "b.csv"
    assert run_command("spotrec.data.synth", ["--out", str(base), "--tracks", "400"]) == 0
    argv = ["--out", str(extra), "--tracks", "20", "--seed", "7"]
    assert run_command("spotrec.data.synth", argv) == 0
    with open(base, newline="") as handle:
        header, *rows = list(csv.reader(handle))
    with open(extra, newline="") as handle:
        _, *extra_rows = list(csv.reader(handle))
    column = header.index("track_id")
    new_ids = list(dict.fromkeys(row[column] for row in extra_rows))[:4]
    added = [row for row in extra_rows if row[column] in new_ids]
    removed = {rows[100][column], rows[200][column]}
    kept = [row for row in rows if row[column] not in removed]
    with open(grown, "w", newline="") as handle:
        csv.writer(handle).writerows([header, *kept, *added])
    return base, grown


def stored_keys(table: str, run: str) -> set[str]:
    """The physical keys of a run in the table (its registry item excluded)."""
    client = boto3.client("dynamodb", region_name=REGION)
    keys: set[str] = set()
    for page in client.get_paginator("scan").paginate(TableName=table, ProjectionExpression="pk"):
        keys.update(i["pk"]["S"] for i in page["Items"] if i["pk"]["S"].startswith(run + "#"))
    keys.discard(f"{run}#RELEASE")
    return keys


def expected_writes(build_a: Path, build_b: Path) -> set[str]:
    """Logical keys of B that must be written: every key of a part whose content differs from
    A's (items compared one by one, B numbered in A's order; parts per kind, about one per
    item of A), and META."""
    from spotrec.writers.incremental import fresh_count
    from spotrec.writers.items import encode_body, iter_release_items
    from spotrec.writers.release_catalogue import load_release_catalogue
    from spotrec_serving.parts import kind_of, part_of

    items_a = [(k, encode_body(k, b)) for k, b in iter_release_items(build_a) if k != "META"]
    order = load_release_catalogue(build_a).ids
    items_b = [
        (k, encode_body(k, b)) for k, b in iter_release_items(build_b, order=order) if k != "META"
    ]
    sizes = Counter(kind_of(k) for k, _ in items_a)

    def parts(items) -> dict[tuple, set]:
        grouped: dict[tuple, set] = {}
        for key, stored in items:
            place = (kind_of(key), part_of(key, fresh_count(sizes[kind_of(key)])))
            grouped.setdefault(place, set()).add((key, stored))
        return grouped

    old, new = parts(items_a), parts(items_b)
    changed = {p for p in new if new[p] != old.get(p)}
    return {"META"} | {key for p in changed for key, _ in new[p]}
