"""Write a release's items to the embedded store, DIR/store.sqlite (see DEVELOPERS.md).

Table ``items(pk TEXT PRIMARY KEY, body) WITHOUT ROWID`` with physical keys
``<run_id>#<logical key>`` plus the CURRENT row; ``body`` is JSON TEXT or packed BLOB
(items.py). WITHOUT ROWID stores each key once (a rowid table keeps it twice: row and index),
and 16 KB pages keep a ~1 KB neighbour list inline with little slack per page. The file is
written beside the target under a temporary name and moved into place with os.replace, so a
reader (SqliteStore) sees either the old complete store or the new one. No pandas at module
level: Lambda tests use this module to write hand-made items without the batch extra.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.writers.items import encode_body
from spotrec_serving.items import ATTR_BODY, ATTR_PK, CURRENT_KEY, META_KEY, physical_key

Item = tuple[str, dict[str, Any]]


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
            # Items arrive in generation order; inserting them straight into the keyed table
            # splits B-tree pages half full. They go to an append-only staging file first and
            # then into the table in key order, which fills every page (~12% smaller file).
            connection.execute("ATTACH DATABASE ? AS staging", (str(staging),))
            connection.execute("PRAGMA staging.journal_mode = OFF")
            connection.execute(f"CREATE TABLE staging.rows ({ATTR_PK} TEXT, {ATTR_BODY})")
            rows = ((physical_key(run_id, key), encode_body(key, body)) for key, body in stream)
            connection.executemany("INSERT INTO staging.rows VALUES (?, ?)", rows)
            pointer = json.dumps({"run_id": run_id, "previous": []})
            connection.execute("INSERT INTO staging.rows VALUES (?, ?)", (CURRENT_KEY, pointer))
            columns = f"{ATTR_PK} TEXT PRIMARY KEY, {ATTR_BODY}"
            connection.execute(f"CREATE TABLE items ({columns}) WITHOUT ROWID")
            connection.execute(f"INSERT INTO items SELECT * FROM staging.rows ORDER BY {ATTR_PK}")
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
