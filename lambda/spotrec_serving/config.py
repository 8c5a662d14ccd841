"""Serving configuration, read from the environment (the Lambda's and `spotrec serve`'s)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
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


# --- time budget ---------------------------------------------------------------------------------
# API Gateway answers 502 when the function runs out of time, so every DynamoDB wait must end,
# with our clean 503, well inside the function's Timeout (template.yaml, FUNCTION_TIMEOUT_SECONDS;
# a test checks the two agree and that worst_case_seconds() leaves room).
#
# Each request gets a budget; before every HTTP attempt (first try, boto3's retries, and the
# store's retries of unprocessed keys) the client checks it and gives up with a StoreError -> 503
# once it is spent. An attempt begun just before the deadline can still take connect + read
# timeout, then one boto3 retry pause (<= 1 s with 2 attempts), before the next check stops it.
FUNCTION_TIMEOUT_SECONDS = 10
DYNAMODB_CONNECT_TIMEOUT_SECONDS = 1.0
DYNAMODB_READ_TIMEOUT_SECONDS = 1.5  # a GetItem/BatchGetItem answers in ~10 ms when healthy
DYNAMODB_MAX_ATTEMPTS = 2  # boto3 "standard" mode: first try + 1 retry
BOTO_RETRY_PAUSE_CAP_SECONDS = 1.0  # standard mode's first backoff: random * 2**0 seconds
DEFAULT_REQUEST_BUDGET_SECONDS = 4.0
BUDGET_ENV = "SPOTREC_REQUEST_BUDGET_SECONDS"  # tests shorten it; production keeps the default

_request = threading.local()


def request_budget_seconds(environ: Mapping[str, str] | None = None) -> float:
    text = (os.environ if environ is None else environ).get(BUDGET_ENV, "").strip()
    return float(text) if text else DEFAULT_REQUEST_BUDGET_SECONDS


def worst_case_seconds(budget: float = DEFAULT_REQUEST_BUDGET_SECONDS) -> float:
    """The longest a request can wait on DynamoDB before answering 503."""
    attempt = DYNAMODB_CONNECT_TIMEOUT_SECONDS + DYNAMODB_READ_TIMEOUT_SECONDS
    return budget + attempt + BOTO_RETRY_PAUSE_CAP_SECONDS


def start_request(budget: float | None = None) -> None:
    """Start this thread's request clock (the handler calls it first thing)."""
    seconds = request_budget_seconds() if budget is None else budget
    _request.deadline = time.monotonic() + seconds


@contextmanager
def request_clock(budget: float | None = None) -> Iterator[None]:
    """This request's DynamoDB time budget, cleared when it ends: a thread that later reads the
    table outside a request (the publish's checks, a test, a benchmark) must not inherit a spent
    deadline and fail with 503s."""
    start_request(budget)
    try:
        yield
    finally:
        _request.deadline = None


def check_deadline(**_: object) -> None:
    """botocore ``before-send`` hook: refuse to start an attempt once the budget is spent."""
    deadline = getattr(_request, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        from spotrec_serving.store import StoreError

        raise StoreError("the request's time budget for DynamoDB is spent")


def dynamodb_client_config():
    """The botocore Config of the DynamoDB client: short timeouts, 2 attempts (see above)."""
    from botocore.config import Config as BotoConfig

    return BotoConfig(
        retries={"mode": "standard", "max_attempts": DYNAMODB_MAX_ATTEMPTS},
        connect_timeout=DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        read_timeout=DYNAMODB_READ_TIMEOUT_SECONDS,
    )
