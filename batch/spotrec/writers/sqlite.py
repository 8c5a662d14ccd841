"""Write a release's items to the embedded store, DIR/store.sqlite (see DEVELOPERS.md).

View ``items(pk, body)`` over ``keys(pk TEXT PRIMARY KEY, id) WITHOUT ROWID`` and
``bodies(id INTEGER PRIMARY KEY, body)``, with physical keys ``<run_id>#<logical key>`` plus
the CURRENT row; ``body`` is JSON TEXT or packed BLOB (items.py). Each key is stored once and
both tables are filled in their own order, so their pages are full (one keyed table filled in
generation order was 14% empty space; a rowid table with a pk column stores each key twice).
The file is written beside the target under a temporary name and moved into place with
os.replace, so a reader (SqliteStore) sees either the old complete store or the new one. No
pandas at module level: Lambda tests use this module to write hand-made items without the
batch extra.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.writers.items import encode_body
from spotrec_serving.items import ATTR_BODY, ATTR_PK, CURRENT_KEY, META_KEY, physical_key

Item = tuple[str, dict[str, Any]]

INSERT_CHUNK = 20_000  # items encoded, then inserted, per round: bounded memory, few calls


def _chunks(items: Iterator[tuple[str, Any]], size: int) -> Iterator[list[tuple[str, Any]]]:
    while chunk := list(islice(items, size)):
        yield chunk


def _resolve_run_id(
    build_dir: Path, items: Iterator[Item], run_id: str | None
) -> tuple[str, Iterator[Item]]:
    """The explicit run id, else the manifest's, else the run_id of a leading META item."""
    if run_id:
        return run_id, items
    manifest = Path(build_dir) / schema.MANIFEST_FILE
    if manifest.is_file():
        return json.loads(manifest.read_text())["run_id"], items
    first = next(items, None)
    if first is None or first[0] != META_KEY:
        raise ValueError("no run id: pass run_id, write manifest.json, or yield META first")
    return first[1]["run_id"], chain([first], items)


def write_store(
    build_dir: Path,
    items: Iterable[Item] | None = None,
    path: Path | None = None,
    *,
    run_id: str | None = None,
    depth: int | None = None,
) -> Path:
    """Write `items` (default: iter_release_items(build_dir), lists `depth` deep) and CURRENT ->
    run id; return path."""
    build_dir = Path(build_dir)
    target = Path(path) if path else build_dir / schema.STORE_FILE
    if items is None:
        from spotrec.writers.items import DEFAULT_DEPTH, iter_release_items

        items = iter_release_items(build_dir, run_id=run_id, depth=depth or DEFAULT_DEPTH)
    run_id, stream = _resolve_run_id(build_dir, iter(items), run_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staging = target.with_name(f".{target.name}.{os.getpid()}.staging")
    temp.unlink(missing_ok=True)
    staging.unlink(missing_ok=True)
    try:
        connection = sqlite3.connect(temp)
        try:
            # Fresh private files that are either completed or deleted: no journal needed.
            connection.execute("PRAGMA page_size = 16384")
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            # The bodies fill a rowid table in rowid order (appends fill every page); the keys
            # go to an append-only staging table and are copied into a small keyed table in key
            # order: each key stored once, and no half-empty pages from inserts in random key
            # order. Only the keys are staged: copying the bodies through staging as well wrote
            # every body twice. The view `items(pk, body)` is what readers (and ad-hoc SQL) query.
            connection.execute("ATTACH DATABASE ? AS staging", (str(staging),))
            connection.execute("PRAGMA staging.journal_mode = OFF")
            connection.execute(f"CREATE TABLE bodies (id INTEGER PRIMARY KEY, {ATTR_BODY})")
            connection.execute(f"CREATE TABLE staging.rows ({ATTR_PK} TEXT, id INTEGER)")
            pointer = json.dumps({"run_id": run_id, "previous": []})
            rows = ((physical_key(run_id, key), encode_body(key, body)) for key, body in stream)
            next_id = 1
            for chunk in _chunks(chain(rows, [(CURRENT_KEY, pointer)]), INSERT_CHUNK):
                ids = range(next_id, next_id + len(chunk))
                connection.executemany(
                    "INSERT INTO bodies VALUES (?, ?)", zip(ids, (b for _, b in chunk), strict=True)
                )
                connection.executemany(
                    "INSERT INTO staging.rows VALUES (?, ?)",
                    zip((k for k, _ in chunk), ids, strict=True),
                )
                next_id += len(chunk)
            connection.executescript(
                f"""
                CREATE TABLE keys ({ATTR_PK} TEXT PRIMARY KEY, id INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO keys SELECT {ATTR_PK}, id FROM staging.rows ORDER BY {ATTR_PK};
                CREATE VIEW items AS SELECT keys.{ATTR_PK} AS {ATTR_PK}, bodies.{ATTR_BODY}
                    AS {ATTR_BODY} FROM keys JOIN bodies ON bodies.id = keys.id;
                """
            )
            connection.commit()
            connection.execute("DETACH DATABASE staging")
        finally:
            connection.close()
            staging.unlink(missing_ok=True)
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return target
