"""`spotrec events export --to PATH`: the collected listening events as an events log.

The output is the events-log format `spotrec build --interactions` reads (columns session_id,
track_id, event, timestamp; see docs/events.md): CSV, JSON Lines or Parquet by the file's
extension, one row per stored event (each event once: the stores deduplicate on write), sorted
by session then time. Timestamps are ISO 8601 UTC. Written to a temporary file and moved into
place, so a reader never sees half an export.

Source: ``--table`` (or SPOTREC_EVENTS_TABLE) reads the DynamoDB events table with a parallel
Scan (``--segments`` workers, Segment/TotalSegments); otherwise the SQLite event store,
``--events-db FILE`` or the events.sqlite beside ``--store DIR``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from spotrec.errors import SpotrecError

HELP = "export the collected events (SQLite or DynamoDB) as an events log for the next build"
COLUMNS = ("session_id", "track_id", "event", "timestamp")
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to", required=True, metavar="PATH", help="output: .csv, .jsonl, .parquet"
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--table", help="DynamoDB events table (default: SPOTREC_EVENTS_TABLE)")
    source.add_argument("--events-db", metavar="FILE", help="a SQLite event store file")
    source.add_argument("--store", metavar="DIR", help="a build dir: its events.sqlite")
    parser.add_argument("--segments", type=int, default=4, help="parallel Scan segments")


def open_source(table: str | None, events_db: str | None, store: str | None, segments: int):
    """An iterator over stored events (dicts with epoch-ms timestamps) and a description."""
    from spotrec_serving.event_store import EVENTS_FILE

    table = table or (None if events_db or store else os.environ.get("SPOTREC_EVENTS_TABLE"))
    if table:
        from spotrec_serving.dynamodb_event_store import DynamoDBEventStore

        return DynamoDBEventStore(table).iter_events(segments=segments), f"table {table}"
    if not events_db and not store:
        raise SpotrecError("give --table, --events-db FILE or --store DIR")
    path = Path(events_db) if events_db else Path(store) / EVENTS_FILE
    if not path.is_file():
        raise SpotrecError(f"no event store at {path}")
    from spotrec_serving.sqlite_event_store import SqliteEventStore

    return SqliteEventStore(path).iter_events(), f"SQLite {path}"


def iso(timestamp_ms: int) -> str:
    moment = datetime.fromtimestamp(timestamp_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def log_rows(events: Iterable[dict]) -> list[dict]:
    """Rows of the events log, in (session, time, key) order."""
    ordered = sorted(events, key=lambda e: (e["session_id"], e["timestamp"], e["key"]))
    return [{**{c: e[c] for c in COLUMNS}, "timestamp": iso(e["timestamp"])} for e in ordered]


def write_log(rows: list[dict], target: Path) -> None:
    kind = FORMATS.get(target.suffix.lower())
    if kind is None:
        raise SpotrecError(f"unknown output format {target.suffix!r}: use .csv, .jsonl or .parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.partial")
    if kind == "csv":
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    elif kind == "jsonl":
        with temporary.open("w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(row) + "\n" for row in rows)
    else:
        import pandas as pd

        frame = pd.DataFrame(rows, columns=list(COLUMNS))
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
        frame.to_parquet(temporary, index=False)
    os.replace(temporary, target)


def export(events: Iterator[dict], target: Path) -> dict[str, int]:
    rows = log_rows(events)
    write_log(rows, target)
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["event"]] = counts.get(row["event"], 0) + 1
    return {"events": len(rows), "sessions": len({r["session_id"] for r in rows}), **counts}


def run(args: argparse.Namespace) -> int:
    events, described = open_source(args.table, args.events_db, args.store, args.segments)
    target = Path(args.to)
    log.info("exporting events from %s", described)
    stats = export(events, target)
    print(f"spotrec: exported {json.dumps(stats)} to {target}", flush=True)
    return 0
