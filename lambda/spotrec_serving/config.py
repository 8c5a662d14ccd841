"""Serving configuration, read from the environment (the Lambda's and `spotrec serve`'s)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_CURRENT_TTL_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Config:
    """Where the items live and how links are built.

    table: SPOTREC_TABLE, a DynamoDB table name; when set it wins over `store_path`.
    store_path: SPOTREC_STORE, a build directory or a store.sqlite file.
    current_ttl_seconds: SPOTREC_CURRENT_TTL_SECONDS, how long the CURRENT pointer is cached.
        30 s bounds how long a new release takes to reach a warm Lambda, and keeps a request
        at one store round trip most of the time.
    base_url: SPOTREC_BASE_URL, the prefix of every `href` (e.g. "https://api.example.com/prod");
        when unset it is derived from each request (Host header, stage).
    """

    table: str | None = None
    store_path: str | None = None
    current_ttl_seconds: float = DEFAULT_CURRENT_TTL_SECONDS
    base_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        ttl_text = env.get("SPOTREC_CURRENT_TTL_SECONDS", "").strip()
        try:
            ttl = float(ttl_text) if ttl_text else DEFAULT_CURRENT_TTL_SECONDS
        except ValueError as exc:
            raise ValueError(
                f"SPOTREC_CURRENT_TTL_SECONDS must be a number of seconds, got {ttl_text!r}"
            ) from exc
        if ttl < 0:
            raise ValueError(f"SPOTREC_CURRENT_TTL_SECONDS must be >= 0, got {ttl}")
        base_url = env.get("SPOTREC_BASE_URL", "").strip().rstrip("/") or None
        return cls(
            table=env.get("SPOTREC_TABLE", "").strip() or None,
            store_path=env.get("SPOTREC_STORE", "").strip() or None,
            current_ttl_seconds=ttl,
            base_url=base_url,
        )
