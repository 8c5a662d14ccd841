"""Which run holds each item of a release: the part map of an incremental publish.

A DynamoDB publish writes only the parts whose content changed since the release it replaces
and carries the rest forward (docs/aws.md "Incremental publish"). A logical key belongs to part
``crc32(key) mod count``; META (always written under the release's own run id) says which run
holds each part::

    "parts": {"count": P, "runs": [[run_id, expires_at], ...], "map": base64(P x u8)}

``map[p]`` indexes ``runs``. A META without ``parts`` (every SQLite release, and a full
DynamoDB publish) means every item lives under the release's own run id. The map is immutable
per run, so a reader caches it with META: a request still costs one BatchGetItem, whichever
runs its keys live under. The key scheme is the same for every item kind (C, T, N, G, S, and
any kind added later), so nothing here knows about kinds.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass
from typing import Any

from spotrec_serving.items import META_KEY, physical_key

DEFAULT_PARTS = 4096  # chosen by measurement: docs/performance.md "Incremental publish"


def part_of(logical_key: str, count: int) -> int:
    return zlib.crc32(logical_key.encode()) % count


@dataclass(frozen=True)
class PartMap:
    """The run holding each part of one release (``holders`` is None: all the release's own)."""

    run_id: str
    count: int = 1
    runs: tuple[str, ...] = ()
    expiries: tuple[int, ...] = ()
    holders: bytes | None = None

    @classmethod
    def from_meta(cls, run_id: str, meta: dict[str, Any]) -> PartMap:
        parts = meta.get("parts")
        if not parts:
            return cls(run_id)
        runs = tuple(str(run) for run, _ in parts["runs"])
        expiries = tuple(int(expires) for _, expires in parts["runs"])
        holders = base64.b64decode(parts["map"])
        if len(holders) != int(parts["count"]) or max(holders, default=0) >= len(runs):
            raise ValueError(f"release {run_id}: META part map is inconsistent")
        return cls(run_id, int(parts["count"]), runs, expiries, holders)

    def holder(self, logical_key: str) -> str:
        """The run id whose items hold this logical key in this release."""
        if self.holders is None or logical_key == META_KEY:
            return self.run_id
        return self.runs[self.holders[part_of(logical_key, self.count)]]

    def physical(self, logical_key: str) -> str:
        return physical_key(self.holder(logical_key), logical_key)


def encode_parts(count: int, holder_of_part: list[str], expiry_of_run: dict[str, int]) -> dict:
    """META's "parts" document for a release whose part p lives under holder_of_part[p]."""
    runs = list(dict.fromkeys(holder_of_part))
    if len(runs) > 255:
        raise ValueError("a release may reference at most 255 runs")
    position = {run: i for i, run in enumerate(runs)}
    holders = bytes(position[run] for run in holder_of_part)
    return {
        "count": count,
        "runs": [[run, int(expiry_of_run[run])] for run in runs],
        "map": base64.b64encode(holders).decode("ascii"),
    }
