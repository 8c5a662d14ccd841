"""The release pointer and the run registry: the only items a publish ever overwrites.

CURRENT item (pk ``CURRENT``)::

    run_id    S   the served run (the reader's GetItem projects only this attribute)
    revision  N   +1 on every move; every move is conditional on the revision it read, so two
                  concurrent publishers (or a publish racing a rollback) cannot both win
    body      S   JSON {"run_id", "previous": [newest first, at most keep-1], "retired": [...],
                  "revision", "moved_at", "reason": "publish" | "rollback"}

``previous`` are the runs kept for ``--rollback`` (keep 3 = current + 2 previous). A run that
drops off it goes to ``retired``; after each move the publisher marks its registry item
``expired`` (one PutItem per run). Every item of a run was written with ``expires_at`` (publish
time + the run lifetime), so DynamoDB TTL deletes them at no write cost and nothing is written
per item at retirement; a retirement that was interrupted is retried next time.

Run registry item (pk ``<run_id>#RELEASE``, not in the run_part GSI)::

    body JSON {"run_id", "state": "writing" | "complete" | "expired", "items": int,
               "bytes": int, "counts": {kind: int}, "parts": {"counts", "digests"},
               "expires_at", "manifest_sha256", "updated_at"}

``parts`` are the writer's per-part tallies (part = crc32(pk) mod 16): items acknowledged and
the sum of their 64-bit body digests, so an audit can check one part against the table.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from spotrec.errors import SpotrecError
from spotrec_serving.items import (
    ATTR_BODY,
    ATTR_PK,
    ATTR_RUN_ID,
    ATTR_TTL,
    CURRENT_KEY,
    physical_key,
)

REGISTRY_KEY = "RELEASE"
ATTR_REVISION = "revision"


class ReleaseConflictError(SpotrecError):
    """CURRENT changed while we were publishing (another publish or a rollback won)."""


@dataclass
class Pointer:
    run_id: str | None  # None: nothing published yet
    revision: int = 0
    previous: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_pointer(client: Any, table: str) -> Pointer:
    item = client.get_item(
        TableName=table, Key={ATTR_PK: {"S": CURRENT_KEY}}, ConsistentRead=True
    ).get("Item")
    if not item:
        return Pointer(run_id=None)
    body = json.loads(item[ATTR_BODY]["S"])
    return Pointer(
        run_id=item[ATTR_RUN_ID]["S"],
        revision=int(item[ATTR_REVISION]["N"]),
        previous=list(body.get("previous", [])),
        retired=list(body.get("retired", [])),
    )


def move_pointer(client: Any, table: str, read: Pointer, new: Pointer, reason: str) -> None:
    """Conditional PutItem: succeeds only if CURRENT is still exactly what we read."""
    from botocore.exceptions import ClientError

    body = {
        "run_id": new.run_id,
        "previous": new.previous,
        "retired": new.retired,
        "revision": new.revision,
        "moved_at": _now_iso(),
        "reason": reason,
    }
    kwargs: dict[str, Any] = {
        "TableName": table,
        "Item": {
            ATTR_PK: {"S": CURRENT_KEY},
            ATTR_RUN_ID: {"S": new.run_id},
            ATTR_REVISION: {"N": str(new.revision)},
            ATTR_BODY: {"S": json.dumps(body)},
        },
    }
    if read.run_id is None:
        kwargs["ConditionExpression"] = "attribute_not_exists(#pk)"
        kwargs["ExpressionAttributeNames"] = {"#pk": ATTR_PK}
    else:
        kwargs["ConditionExpression"] = "#run = :run AND #rev = :rev"
        kwargs["ExpressionAttributeNames"] = {"#run": ATTR_RUN_ID, "#rev": ATTR_REVISION}
        kwargs["ExpressionAttributeValues"] = {
            ":run": {"S": read.run_id},
            ":rev": {"N": str(read.revision)},
        }
    try:
        client.put_item(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise ReleaseConflictError(
                f"CURRENT moved while this {reason} ran (it read run {read.run_id}, revision "
                f"{read.revision}); nothing was changed. Check the table and retry."
            ) from exc
        raise


def promoted(read: Pointer, run_id: str, keep: int) -> Pointer:
    """The pointer after publishing run_id: the old current becomes previous[0]."""
    history = [r for r in [read.run_id, *read.previous] if r and r != run_id]
    kept, dropped = history[: keep - 1], history[keep - 1 :]
    retired = [r for r in [*read.retired, *dropped] if r != run_id]
    return Pointer(run_id, read.revision + 1, kept, list(dict.fromkeys(retired)))


def rolled_back(read: Pointer) -> Pointer:
    """The pointer after --rollback: previous[0] is served again, the current run retires."""
    if read.run_id is None:
        raise SpotrecError("nothing to roll back: no release has been published")
    if not read.previous:
        raise SpotrecError(f"nothing to roll back to: run {read.run_id} has no previous run kept")
    retired = list(dict.fromkeys([*read.retired, read.run_id]))
    return Pointer(read.previous[0], read.revision + 1, read.previous[1:], retired)


def read_registry(client: Any, table: str, run_id: str) -> dict[str, Any] | None:
    item = client.get_item(
        TableName=table,
        Key={ATTR_PK: {"S": physical_key(run_id, REGISTRY_KEY)}},
        ConsistentRead=True,
    ).get("Item")
    return json.loads(item[ATTR_BODY]["S"]) if item else None


def write_registry(
    client: Any, table: str, run_id: str, state: str, *, expires_at: int | None = None, **info: Any
) -> None:
    body = {"run_id": run_id, "state": state, "updated_at": _now_iso(), **info}
    if expires_at is not None:
        body["expires_at"] = expires_at
    item = {
        ATTR_PK: {"S": physical_key(run_id, REGISTRY_KEY)},
        ATTR_RUN_ID: {"S": run_id},
        ATTR_BODY: {"S": json.dumps(body)},
    }
    if expires_at is not None:
        item[ATTR_TTL] = {"N": str(expires_at)}
    client.put_item(TableName=table, Item=item)


def expiry_time(grace_seconds: int) -> int:
    return int(time.time()) + grace_seconds
