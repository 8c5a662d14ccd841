"""Which run holds each item of a release: the part map of an incremental publish.

A DynamoDB publish writes only the parts whose content changed since the release it replaces
and carries the rest forward (docs/aws.md "Incremental publish"). Items are grouped by *kind*,
the first ``#`` segment of the logical key (C, T, N, G, S, and any kind added later, e.g. A),
so a kind whose items rarely change (T) never shares a part with one whose items often do (N).
Within a kind, a key belongs to part ``crc32(key) mod count`` (count chosen per kind by the
publisher, about one part per item, at most MAX_PARTS). META (always written under the
release's own run id) says which run holds each part::

    "parts": {"runs": [[run_id, expires_at], ...],
              "kinds": {kind: {"count": n, "map": base64(zlib(n x u8))}}}

``map[p]`` indexes ``runs``. A kind absent from ``kinds``, and every key of a META without
``parts`` (every SQLite release, and a full DynamoDB publish), lives under the release's own
run id. The map is immutable per run, so a reader caches it with META: a request still costs
one BatchGetItem, whichever runs its keys live under.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass, field
from typing import Any

from spotrec_serving.items import META_KEY, physical_key

MAX_PARTS = 65536  # per kind: a map of <= 64 KB before compression (docs/performance.md)


def kind_of(logical_key: str) -> str:
    return logical_key.split("#", 1)[0]


def part_of(logical_key: str, count: int) -> int:
    return zlib.crc32(logical_key.encode()) % count


@dataclass(frozen=True)
class PartMap:
    """The run holding each part of one release (no kinds: every item is the release's own)."""

    run_id: str
    runs: tuple[str, ...] = ()
    expiries: tuple[int, ...] = ()
    kinds: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # kind -> (count, map)

    @classmethod
    def from_meta(cls, run_id: str, meta: dict[str, Any]) -> PartMap:
        parts = meta.get("parts")
        if not parts:
            return cls(run_id)
        runs = tuple(str(run) for run, _ in parts["runs"])
        expiries = tuple(int(expires) for _, expires in parts["runs"])
        kinds = {}
        for kind, entry in parts["kinds"].items():
            holders = zlib.decompress(base64.b64decode(entry["map"]))
            if len(holders) != int(entry["count"]) or max(holders, default=0) >= len(runs):
                raise ValueError(f"release {run_id}: META part map of {kind} is inconsistent")
            kinds[kind] = (int(entry["count"]), holders)
        return cls(run_id, runs, expiries, kinds)

    def holder(self, logical_key: str) -> str:
        """The run id whose items hold this logical key in this release."""
        entry = self.kinds.get(kind_of(logical_key)) if logical_key != META_KEY else None
        if entry is None:
            return self.run_id
        count, holders = entry
        return self.runs[holders[part_of(logical_key, count)]]

    def physical(self, logical_key: str) -> str:
        return physical_key(self.holder(logical_key), logical_key)


def encode_parts(holders_by_kind: dict[str, list[str]], expiry_of_run: dict[str, int]) -> dict:
    """META's "parts" document: part p of kind k lives under holders_by_kind[k][p]."""
    runs = list(dict.fromkeys(run for holders in holders_by_kind.values() for run in holders))
    if len(runs) > 255:
        raise ValueError("a release may reference at most 255 runs")
    position = {run: i for i, run in enumerate(runs)}
    kinds = {}
    for kind, holders in sorted(holders_by_kind.items()):
        packed = zlib.compress(bytes(position[run] for run in holders), 9)
        kinds[kind] = {"count": len(holders), "map": base64.b64encode(packed).decode("ascii")}
    return {"runs": [[run, int(expiry_of_run[run])] for run in runs], "kinds": kinds}
