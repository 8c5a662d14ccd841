"""Retiring runs after a pointer move, and the expiry warning (aws.py's last phase).

Retiring is O(1) per run: a run's items carry their TTL from the publish that wrote them, so
only the run's registry changes (``expired``). An incremental release may still read parts
written by a retired run (incremental.py); that is safe because nothing deletes items before
their TTL, and the incremental plan never carries a part whose holder expires within
``refresh_days``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from spotrec.writers import release
from spotrec.writers.progress import Progress

log = logging.getLogger(__name__)

RENEW_WARNING_DAYS = 30  # warn when the served run expires sooner than this


def expire_retired(target: Any, pointer: release.Pointer) -> list[str]:
    """O(1) per run: the items carry their TTL from the publish; only the registry changes.
    Best effort: the release is already live; a failure here is retried next publish."""
    expired = []
    with Progress("expiry: retire runs", total=len(pointer.retired), unit="runs") as progress:
        for run_id in pointer.retired:
            registry = release.read_registry(target.dynamodb, target.table, run_id) or {}
            progress.update()
            if registry.get("state") == "expired":
                continue
            try:
                release.write_registry(
                    target.dynamodb,
                    target.table,
                    run_id,
                    "expired",
                    expires_at=registry.get("expires_at"),
                    items=registry.get("items"),
                )
                expired.append(run_id)
            except Exception as exc:
                log.warning(
                    "could not retire run %s yet (%s); will retry next publish", run_id, exc
                )
    return expired


def warn_if_expiring(target: Any, run_id: str | None) -> None:
    if not run_id:
        return
    registry = release.read_registry(target.dynamodb, target.table, run_id) or {}
    expires_at = registry.get("expires_at")
    if expires_at and expires_at - time.time() < RENEW_WARNING_DAYS * 86400:
        log.warning(
            "run %s expires in %.0f days (DynamoDB TTL): publish a new build before then, "
            "or rerun this publish with --renew",
            run_id,
            (expires_at - time.time()) / 86400,
        )


def still_retiring(target: Any, pointer: release.Pointer) -> release.Pointer:
    pending = []
    for run_id in pointer.retired:  # a registry gone (its TTL passed) is a finished retirement
        state = (release.read_registry(target.dynamodb, target.table, run_id) or {}).get("state")
        if state not in (None, "expired"):
            pending.append(run_id)
    return release.Pointer(pointer.run_id, pointer.revision, pointer.previous, pending)
