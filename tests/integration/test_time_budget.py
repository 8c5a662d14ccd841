"""A slow or throttled DynamoDB gives a clean 503 (Spotify's shape, Retry-After) within the
request's time budget, never a hang until the function's timeout (which API Gateway would turn
into a 502). Real boto3 over HTTP on 127.0.0.1: a socket that never answers, and a moto server
whose BatchGetItem keeps every key unprocessed (DynamoDB's throttling answer).

The budget is shortened through SPOTREC_REQUEST_BUDGET_SECONDS so the runs take seconds; the
bound asserted is config.worst_case_seconds(budget), the same formula that
tests/test_template.py checks against the template's Timeout with the production budget.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from pathlib import Path

import pytest

from api_support import write_synthetic_build
from aws_support import DUMMY_CREDENTIALS, REPO_ROOT, Throttle, moto_server
from spotrec.server import LocalLambdaContext
from spotrec_serving.config import (
    BUDGET_ENV,
    DYNAMODB_MAX_ATTEMPTS,
    DYNAMODB_READ_TIMEOUT_SECONDS,
    Config,
    worst_case_seconds,
)
from spotrec_serving.errors import RETRY_AFTER_SECONDS
from spotrec_serving.factory import make_store

BUDGET = 1.0
pytestmark = pytest.mark.integration


def recommend_event(seed: str) -> dict:
    event = json.loads((REPO_ROOT / "tests" / "events" / "recommend.json").read_text())
    event["queryStringParameters"] = {"seed_tracks": seed}
    event["multiValueQueryStringParameters"] = {"seed_tracks": [seed]}
    return event


def timed_call(event: dict) -> tuple[float, dict]:
    import app

    started = time.monotonic()
    response = app.lambda_handler(event, LocalLambdaContext("budget-test"))
    return time.monotonic() - started, response


def assert_clean_503(response: dict) -> None:
    assert response["statusCode"] == 503
    body = json.loads(response["body"])
    assert body == {"error": {"status": 503, "message": body["error"]["message"]}}
    headers = dict(response.get("headers") or {})
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[name] = ",".join(values)
    assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)


def use_table(monkeypatch, table: str) -> None:
    monkeypatch.setenv("SPOTREC_TABLE", table)  # a new name: a new store and client
    monkeypatch.delenv("SPOTREC_STORE", raising=False)
    monkeypatch.setenv(BUDGET_ENV, str(BUDGET))


def test_a_dynamodb_that_never_answers_gives_a_503_within_budget(monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_hold() -> None:  # accept, read nothing, answer nothing
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_hold, daemon=True)
    thread.start()
    try:
        for name, value in DUMMY_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("SPOTREC_ENDPOINT_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
        use_table(monkeypatch, f"slow-{uuid.uuid4().hex[:8]}")
        assert make_store(Config.from_env()).client  # made once per instance, before the clock
        elapsed, response = timed_call(recommend_event("syn0000000000000000001"))
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()
    assert_clean_503(response)
    assert held, "the handler never reached the slow endpoint"
    assert elapsed <= worst_case_seconds(BUDGET), elapsed
    # The budget, not boto3's retries running out, ended it: a second attempt would have taken
    # another full read timeout.
    assert elapsed < DYNAMODB_MAX_ATTEMPTS * DYNAMODB_READ_TIMEOUT_SECONDS, elapsed


def test_a_throttled_dynamodb_gives_a_503_within_budget(tmp_path: Path, monkeypatch, caplog):
    from spotrec.writers import aws

    build = write_synthetic_build(tmp_path / "build", n_tracks=12, n_genres=3)
    table = f"throttled-{uuid.uuid4().hex[:8]}"
    with moto_server():
        target = aws.Target(table=table, bucket="spotrec-budget")
        aws.publish(
            build.path, target, create_missing=True, template_path=REPO_ROOT / "template.yaml"
        )
        use_table(monkeypatch, table)
        event = recommend_event(build.track_ids[0])
        _, healthy = timed_call(event)
        assert healthy["statusCode"] == 200, healthy["body"]

        store = make_store(Config.from_env())
        store.current_ttl_seconds = 0  # re-read CURRENT too, as a cold instance would
        throttle = Throttle(store.client, "BatchGetItem", defer=100, times=None)
        elapsed, response = timed_call(event)
    assert_clean_503(response)
    assert throttle.throttled >= 2, "the store gave up without retrying the unprocessed keys"
    assert elapsed <= worst_case_seconds(BUDGET), elapsed
    assert "time budget for DynamoDB is spent" in caplog.text
