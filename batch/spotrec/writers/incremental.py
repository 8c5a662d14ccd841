"""Incremental publish: write only the parts whose content changed, carry the rest forward.

A release's logical keys fall into ``count`` parts (``parts.part_of``: crc32(key) mod count).
Each published release records, in its registry item, a content digest per part: the sum mod
2**64 of blake2b-64(key, stored body) over the part's items (order-independent, and a moved,
added or removed item changes it). The next publish:

1. reads the current release: META (its part map and TTL), the registry's part digests, and
   its catalogue order (the C# blocks), so tracks keep their indexes (release_order.py);
2. generates the new release once to digest its parts (nothing is written);
3. plans: a part whose digest equals the current release's is *carried* (it stays under the
   run that holds it now) unless that run expires within ``refresh_days``; every other part
   is written whole under the new run id. META is always written (it names the new run and
   holds the part map, parts.py);
4. generates the release again and writes the planned parts (aws.py).

Why parts and not single items: a reader must find a carried item without asking where it is;
a per-part map in META (count bytes) does that with no extra round trip, where a per-item map
would be as big as the release. Why refresh: items carry the TTL of the publish that wrote
them (docs/aws.md), so a part carried too long would expire under the release that serves it;
rewriting parts whose holder has less than ``refresh_days`` left (default half the lifetime)
bounds every release's expiry to at least that far ahead, with no per-item TTL update.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spotrec.writers import release
from spotrec.writers.items import encode_body
from spotrec_serving.dynamodb_store import DynamoDBStore
from spotrec_serving.items import META_KEY, catalogue_key
from spotrec_serving.parts import DEFAULT_PARTS, PartMap, encode_parts, part_of

log = logging.getLogger(__name__)

_MASK = (1 << 64) - 1


class PartDigests:
    """Per-part content digests of a release (see the module docstring)."""

    def __init__(self, count: int = DEFAULT_PARTS, sums: list[int] | None = None):
        self.count = count
        self.sums = sums if sums is not None else [0] * count
        self.items = [0] * count

    def add(self, logical_key: str, stored: str | bytes) -> int:
        raw = stored if isinstance(stored, bytes) else stored.encode()
        digest = hashlib.blake2b(logical_key.encode() + b"\0" + raw, digest_size=8).digest()
        part = part_of(logical_key, self.count)
        self.sums[part] = (self.sums[part] + int.from_bytes(digest, "little")) & _MASK
        self.items[part] += 1
        return part

    def encode(self) -> str:
        return base64.b64encode(array("Q", self.sums).tobytes()).decode("ascii")

    @classmethod
    def decode(cls, count: int, text: str) -> PartDigests:
        sums = array("Q")
        sums.frombytes(base64.b64decode(text))
        if len(sums) != count:
            raise ValueError("part digests do not match the part count")
        return cls(count, list(sums))


def digest_release(items: Iterable[tuple[str, Any]], count: int = DEFAULT_PARTS) -> PartDigests:
    """Digest every item but META (which always changes: it names its run)."""
    digests = PartDigests(count)
    for logical_key, body in items:
        if logical_key != META_KEY:
            digests.add(logical_key, encode_body(logical_key, body))
    return digests


@dataclass
class Previous:
    """What the plan needs of the release being replaced."""

    run_id: str
    parts: PartMap
    expires_at: int  # its META's: the earliest expiry of any run it reads from
    digests: PartDigests | None  # None: published before part digests existed
    ids: list[str]  # its catalogue order

    def holder_of_part(self, part: int) -> tuple[str, int]:
        """(run holding the part, that run's expiry)."""
        if self.parts.holders is None:
            return self.run_id, self.expires_at
        slot = self.parts.holders[part]
        return self.parts.runs[slot], self.parts.expiries[slot]


def read_previous(client: Any, table: str, run_id: str) -> Previous | None:
    """The current release as the plan needs it; None when it cannot be carried from."""
    store = DynamoDBStore(table, client=client)
    meta = store.get_items(run_id, [META_KEY]).get(META_KEY)
    registry = release.read_registry(client, table, run_id) or {}
    if not isinstance(meta, dict) or registry.get("state") != "complete":
        return None
    keys = [catalogue_key(b) for b in range(int(meta.get("catalogue_blocks", 0)))]
    blocks: dict[str, Any] = {}
    for start in range(0, len(keys), 100):
        blocks.update(store.get_items(run_id, keys[start : start + 100]))
    if any(not isinstance(blocks.get(key), bytes) for key in keys):
        return None
    from spotrec_serving.catalogue import Catalogue

    columns = Catalogue.from_blocks([blocks[key] for key in keys], {})  # ids only
    ids = [columns.track_id(i) for i in range(len(columns))]
    digests = None
    if registry.get("part_digests"):
        digests = PartDigests.decode(int(registry["part_count"]), registry["part_digests"])
    parts = PartMap.from_meta(run_id, meta)
    return Previous(run_id, parts, int(meta.get("expires_at") or 0), digests, ids)


@dataclass
class Plan:
    run_id: str
    holders: list[str]  # part -> run holding it in the new release
    expiry_of_run: dict[str, int]
    digests: PartDigests

    def writes(self, logical_key: str) -> bool:
        return logical_key == META_KEY or self.holder(logical_key) == self.run_id

    def holder(self, logical_key: str) -> str:
        return self.holders[part_of(logical_key, self.digests.count)]

    @property
    def expires_at(self) -> int:
        return min(self.expiry_of_run[run] for run in set(self.holders))

    def meta_parts(self) -> dict | None:
        if all(run == self.run_id for run in self.holders):
            return None  # a full release: no map needed
        return encode_parts(self.digests.count, self.holders, self.expiry_of_run)

    def carried_items(self) -> int:
        pairs = zip(self.digests.items, self.holders, strict=True)
        return sum(n for n, run in pairs if run != self.run_id)


def plan(
    run_id: str,
    digests: PartDigests,
    previous: Previous | None,
    expires_at: int,
    refresh_days: float,
    now: float | None = None,
) -> Plan:
    """Carry every part whose content is unchanged and whose holder outlives refresh_days."""
    now = time.time() if now is None else now
    holders = [run_id] * digests.count
    expiry_of_run = {run_id: expires_at}
    usable = (
        previous is not None
        and previous.digests is not None
        and previous.digests.count == digests.count
        and previous.run_id != run_id
    )
    for part in range(digests.count) if usable else ():
        if digests.items[part] == 0 or previous.digests.sums[part] != digests.sums[part]:
            continue
        holder, expiry = previous.holder_of_part(part)
        if holder != run_id and expiry - now >= refresh_days * 86400:
            holders[part] = holder
            expiry_of_run[holder] = expiry
    result = Plan(run_id, holders, expiry_of_run, digests)
    log.info(
        "incremental plan: %d of %d parts carried (%d items)",
        sum(1 for run in holders if run != run_id),
        digests.count,
        result.carried_items(),
    )
    return result
