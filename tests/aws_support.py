"""Helpers for the AWS tests: the template's table, hand-made releases, throttling injection.

No pandas/numpy here: the Lambda-side DynamoDB tests import this module too.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from spotrec.writers import stack_template

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = REPO_ROOT / "template.yaml"
REGION = "us-east-1"
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def run_command(module_name: str, argv: list[str]) -> int:
    """Run a `spotrec` subcommand module in-process (its add_arguments + run)."""
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


def create_template_table(client: Any, name: str) -> None:
    """The table exactly as template.yaml declares it (code and stack cannot drift)."""
    stack_template.create_table(client, stack_template.load_template(TEMPLATE), name)


def track_id(i: int) -> str:
    return f"{i:022d}"  # digits are valid base-62


def hand_made_items(tag: str, n_tracks: int, models: tuple[str, ...] = ("cosine",)):
    """A release whose bodies name their run (tag), so a mixed read would show at once.

    Yields META, one T# per track and one N#<model># per track and model, like items.py.
    """
    yield "META", {"run_id": tag, "models": list(models), "tracks": n_tracks}
    for i in range(n_tracks):
        yield f"T#{track_id(i)}", {"run": tag, "track": i}
        for model in models:
            neighbour = (i + 1) % n_tracks
            yield f"N#{model}#{track_id(i)}", {"run": tag, "items": [[0.9, track_id(neighbour)]]}


def make_build_dir(
    path: Path, run_id: str, n_tracks: int, models: tuple[str, ...] = ("cosine",)
) -> Path:
    """A build directory with a manifest that vouches for its files (made with manifest.py).

    The data files' contents are opaque bytes: publish uploads them and never parses them.
    """
    from spotrec import manifest

    (path / "neighbours").mkdir(parents=True, exist_ok=True)
    (path / "tracks.parquet").write_bytes(f"tracks of {run_id}".encode())
    for model in models:
        (path / "neighbours" / f"{model}.parquet").write_bytes(f"{model} of {run_id}".encode())
    manifest.write_manifest(
        path,
        {
            "run_id": run_id,
            "models": list(models),
            "counts": {"tracks": n_tracks},
            "files": manifest.describe_files(path),
        },
    )
    return path


class Throttle:
    """Make DynamoDB batch calls leave part of the request unprocessed, like real throttling.

    Before the call, the last ``defer`` entries are taken out of the request (so the server
    really does not see them); after it, they are put back as UnprocessedItems/UnprocessedKeys.
    ``times`` calls are throttled (None = all). A request of ``defer`` entries or fewer is
    sent whole and reported whole as unprocessed. Works with moto and real endpoints alike.
    """

    def __init__(self, client: Any, operation: str, defer: int = 3, times: int | None = 2):
        self.operation, self.defer, self.times = operation, defer, times
        self.calls = 0
        self.throttled = 0
        events = client.meta.events
        events.register(f"provide-client-params.dynamodb.{operation}", self._before)
        events.register(f"after-call.dynamodb.{operation}", self._after)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        self.calls += 1
        if self.times is not None and self.throttled >= self.times:
            return
        ((table, request),) = params["RequestItems"].items()
        entries = request["Keys"] if self.operation == "BatchGetItem" else request
        if self.defer >= len(entries):
            # A request cannot be empty: send it all and still report it all unprocessed
            # (puts and gets are idempotent, so the only effect is the retry it forces).
            deferred = list(entries)
        else:
            deferred = entries[-self.defer :]
            del entries[-self.defer :]
        context["deferred"] = (table, deferred)
        self.throttled += 1

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "deferred" not in context:
            return
        table, deferred = context.pop("deferred")
        if self.operation == "BatchGetItem":
            parsed["UnprocessedKeys"] = {table: {"Keys": deferred}}
        else:
            parsed["UnprocessedItems"] = {table: deferred}


class FailAfter:
    """Raise on the (n+1)-th call of an operation: a publish that dies midway."""

    def __init__(self, client: Any, operation: str, n: int):
        self.n, self.calls = n, 0
        client.meta.events.register(f"before-call.dynamodb.{operation}", self._before)

    def _before(self, **_: Any) -> None:
        self.calls += 1
        if self.calls > self.n:
            raise RuntimeError(f"injected failure after {self.n} calls")


def body_of(item: dict[str, Any]) -> dict[str, Any]:
    return json.loads(item["body"]["S"])


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 at a free port, with AWS_ENDPOINT_URL and dummy credentials
    set in os.environ while it runs (restored afterwards). Yields the endpoint URL."""
    import logging
    import os
    import socket

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    saved = {name: os.environ.get(name) for name in [*DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL"]}
    os.environ.update({**DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint})
    try:
        yield endpoint
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def create_events_table(client: Any, name: str) -> None:
    """The events table exactly as template.yaml declares it (EventsTable)."""
    props = stack_template.resource_properties(
        stack_template.load_template(TEMPLATE), "EventsTable"
    )
    client.create_table(
        TableName=name,
        KeySchema=props["KeySchema"],
        AttributeDefinitions=props["AttributeDefinitions"],
        BillingMode=props["BillingMode"],
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
