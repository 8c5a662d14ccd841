"""Incremental publish: write only the parts whose content changed, carry the rest forward.

Items are grouped by kind and part (``spotrec_serving.parts``: kind = first key segment, part =
crc32(key) mod the kind's part count). Each release records a content digest per part: the sum
mod 2**64 of blake2b-64(key, stored body) over the part's items (order-independent; a moved,
added or removed item changes it), in ``s3://BUCKET/runs/<run_id>/part_digests.json`` (its
sha256 in the run's registry item). The next publish:

1. reads the current release: META (its part map), its registry (own TTL, digests' sha256),
   the digests from S3, and its catalogue order (C# blocks) so tracks keep their indexes
   (release_order.py);
2. generates the new release once to digest it (nothing is written);
3. plans per kind: the part count of the current release (unless it is now over 4x off the
   kind's size, then a fresh power of two: that kind is rewritten once); a part whose digest
   equals the current release's is *carried* (stays under the run holding it) unless that run
   expires within ``refresh_days``; every other part is written whole under the new run id.
   META is always written (it names the new run and holds the part map);
4. generates the release again and writes the planned parts (aws.py), checking that the
   second pass digests exactly as the first.

Why parts and not single items: a reader must find a carried item without asking where it
is; a per-part map in META does that with no extra round trip. Why per kind: with one map for
all kinds, a rarely changing T item shares its part with often changing N lists and is
rewritten with them (docs/performance.md). Why refresh: items carry the TTL of the publish
that wrote them (docs/aws.md), so a part carried too long would expire under the release
that serves it; rewriting parts whose holder has less than ``refresh_days`` left (default half
the lifetime) keeps every release's expiry at least that far ahead, with no per-item update.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import zlib
from array import array
from dataclasses import dataclass, field
from typing import Any

from spotrec.writers import release
from spotrec_serving.dynamodb_store import DynamoDBStore
from spotrec_serving.items import META_KEY, catalogue_key
from spotrec_serving.parts import MAX_PARTS, PartMap, encode_parts, kind_of, part_of
from spotrec_serving.store import StoreError

log = logging.getLogger(__name__)

DIGESTS_FILE = "part_digests.json"  # s3://BUCKET/runs/<run_id>/<this>
_MASK = (1 << 64) - 1


def fresh_count(items: int) -> int:
    """About one part per item, a power of two, at most MAX_PARTS."""
    return min(MAX_PARTS, 1 << max(0, items - 1).bit_length())


class ReleaseDigests:
    """Every item's (crc32 of key, 64-bit digest of key + body), by kind: 12 bytes an item."""

    def __init__(self) -> None:
        self.crcs: dict[str, array] = {}
        self.digests: dict[str, array] = {}

    def add(self, logical_key: str, stored: str | bytes) -> None:
        if logical_key == META_KEY:
            return  # META always changes (it names its run) and is always written
        kind, key = kind_of(logical_key), logical_key.encode()
        raw = stored if isinstance(stored, bytes) else stored.encode()
        digest = hashlib.blake2b(key + b"\0" + raw, digest_size=8).digest()
        self.crcs.setdefault(kind, array("I")).append(zlib.crc32(key))
        self.digests.setdefault(kind, array("Q")).append(int.from_bytes(digest, "little"))

    def part_sums(self, kind: str, count: int) -> tuple[list[int], list[int]]:
        """(digest sum, items) per part of one kind."""
        sums, items = [0] * count, [0] * count
        for crc, digest in zip(self.crcs[kind], self.digests[kind], strict=True):
            part = crc % count
            sums[part] = (sums[part] + digest) & _MASK
            items[part] += 1
        return sums, items


@dataclass
class Previous:
    """What the plan needs of the release being replaced."""

    run_id: str
    expires_at: int  # when its own items expire (its registry)
    parts: PartMap
    digests: dict[str, tuple[int, list[int]]]  # kind -> (count, sums)
    ids: list[str]  # its catalogue order

    def holder_of(self, kind: str, count: int, part: int) -> tuple[str, int]:
        """(run holding the part, that run's expiry)."""
        entry = self.parts.kinds.get(kind)
        if entry is None:
            return self.run_id, self.expires_at
        if entry[0] != count:
            raise ValueError(f"release {self.run_id}: {kind} map and digests disagree")
        slot = entry[1][part]
        return self.parts.runs[slot], self.parts.expiries[slot]


def read_previous(client: Any, table: str, s3: Any, bucket: str, run_id: str) -> Previous | None:
    """The current release as the plan needs it; None (a full publish) when it cannot be
    carried from: not complete, or published before part digests existed."""
    registry = release.read_registry(client, table, run_id) or {}
    if registry.get("state") != "complete" or not registry.get("part_digests_sha256"):
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        raw = s3.get_object(Bucket=bucket, Key=f"runs/{run_id}/{DIGESTS_FILE}")["Body"].read()
    except (BotoCoreError, ClientError) as exc:  # missing or unreadable: publish in full
        log.warning("no part digests for run %s (%s): publishing in full", run_id, exc)
        return None
    if hashlib.sha256(raw).hexdigest() != registry["part_digests_sha256"]:
        log.warning("part digests of run %s do not match its registry: publishing in full", run_id)
        return None
    digests = {}
    for kind, entry in json.loads(raw)["kinds"].items():
        sums = array("Q")
        sums.frombytes(base64.b64decode(entry["digests"]))
        digests[kind] = (int(entry["count"]), list(sums))
    store = DynamoDBStore(table, client=client)
    try:
        meta = store.get_items(run_id, [META_KEY]).get(META_KEY)
        keys = [catalogue_key(b) for b in range(int(meta.get("catalogue_blocks", 0)))]
        blocks: dict[str, Any] = {}
        for start in range(0, len(keys), 100):
            blocks.update(store.get_items(run_id, keys[start : start + 100]))
        from spotrec_serving.catalogue import Catalogue

        columns = Catalogue.from_blocks([blocks[key] for key in keys], {})  # ids only
    except (StoreError, AttributeError, KeyError) as exc:
        log.warning("cannot read run %s back (%s): publishing in full", run_id, exc)
        return None
    ids = [columns.track_id(i) for i in range(len(columns))]
    expires_at = int(registry.get("expires_at") or 0)
    return Previous(run_id, expires_at, PartMap.from_meta(run_id, meta), digests, ids)


@dataclass
class Plan:
    run_id: str
    expires_at: int  # the new run's own items
    holders: dict[str, list[str]] = field(default_factory=dict)  # kind -> run per part
    sums: dict[str, list[int]] = field(default_factory=dict)
    items: dict[str, list[int]] = field(default_factory=dict)
    expiry_of_run: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.expiry_of_run.setdefault(self.run_id, self.expires_at)

    def holder(self, logical_key: str) -> str:
        holders = self.holders.get(kind_of(logical_key)) if logical_key != META_KEY else None
        return holders[part_of(logical_key, len(holders))] if holders else self.run_id

    @property
    def release_expires_at(self) -> int:
        """The earliest expiry of any run the release reads from (META's expires_at)."""
        used = {run for holders in self.holders.values() for run in holders}
        return min([self.expires_at, *(self.expiry_of_run[run] for run in used)])

    def meta_parts(self) -> dict | None:
        carried = {k: h for k, h in self.holders.items() if any(r != self.run_id for r in h)}
        if not carried:
            return None  # nothing carried: no map needed
        return encode_parts(carried, self.expiry_of_run)

    def carried_items(self) -> int:
        return sum(
            n
            for kind, holders in self.holders.items()
            for n, run in zip(self.items[kind], holders, strict=True)
            if run != self.run_id
        )

    def digests_document(self) -> bytes:
        kinds = {
            kind: {
                "count": len(sums),
                "digests": base64.b64encode(array("Q", sums).tobytes()).decode("ascii"),
            }
            for kind, sums in sorted(self.sums.items())
        }
        return json.dumps({"run_id": self.run_id, "kinds": kinds}).encode()


def plan(
    run_id: str,
    digests: ReleaseDigests,
    previous: Previous | None,
    expires_at: int,
    refresh_days: float,
    now: float | None = None,
) -> Plan:
    """Carry every part whose content is unchanged and whose holder outlives refresh_days."""
    now = time.time() if now is None else now
    result = Plan(run_id, expires_at)
    usable = previous is not None and previous.run_id != run_id
    for kind, crcs in sorted(digests.crcs.items()):
        before = previous.digests.get(kind) if usable else None
        count = fresh_count(len(crcs))
        if before and count / 4 <= before[0] <= min(MAX_PARTS, count * 4):
            count = before[0]  # keep the current release's parts comparable
        sums, items = digests.part_sums(kind, count)
        holders = [run_id] * count
        for part in range(count) if before and before[0] == count else ():
            if items[part] == 0 or before[1][part] != sums[part]:
                continue
            holder, expiry = previous.holder_of(kind, count, part)
            if holder != run_id and expiry - now >= refresh_days * 86400:
                holders[part] = holder
                result.expiry_of_run[holder] = expiry
        result.holders[kind], result.sums[kind], result.items[kind] = holders, sums, items
    total = sum(sum(items) for items in result.items.values())
    log.info("incremental plan: %d of %d items carried", result.carried_items(), total)
    return result


def digest_pass(items: Any) -> ReleaseDigests:
    """Digest a release without writing it (the plan's first pass)."""
    from spotrec.writers.items import encode_body

    digests = ReleaseDigests()
    for logical_key, body in items:
        if logical_key != META_KEY:
            digests.add(logical_key, encode_body(logical_key, body))
    return digests


def same_release(planned: Plan, digests: ReleaseDigests) -> bool:
    """Whether the second pass digested exactly as the first (generation is deterministic)."""
    if set(planned.sums) != set(digests.crcs):
        return False
    return all(digests.part_sums(kind, len(sums))[0] == sums for kind, sums in planned.sums.items())


def save_digests(s3: Any, bucket: str, planned: Plan) -> str:
    """Upload the release's part digests (for the next publish); returns their sha256."""
    body = planned.digests_document()
    s3.put_object(
        Bucket=bucket,
        Key=f"runs/{planned.run_id}/{DIGESTS_FILE}",
        Body=body,
        ContentType="application/json",
        ServerSideEncryption="AES256",
    )
    return hashlib.sha256(body).hexdigest()
