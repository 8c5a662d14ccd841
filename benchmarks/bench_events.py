"""Events figures, printed, not asserted (docs/performance.md, "Events"):

* ingest throughput of POST /v1/events through `spotrec serve` (HTTP, SQLite event store), with
  several client threads, and through the events Lambda against DynamoDB on a moto server;
* warm p50/p99 of a session-aware recommendation next to the plain one, in the same run, on
  SQLite and on DynamoDB (moto), with the DynamoDB calls each request makes;
* the planted-taste shifts (tests/session_world.py): 3 likes inside one taste -> its share of
  the next top-20; 3 skips of one genre -> its share.

    python benchmarks/bench_events.py [--repeat 2000] [--batches 400] [--threads 4]
        [--listeners 200]

Catalogue: the synthetic session world (4 tastes x 60 tracks, top-20 lists). moto is far slower
than DynamoDB per call and shares the 2 cores: its figures bound the client side, they do not
predict AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests' helpers: session world, moto server recipe, hand-made API Gateway events.
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "lambda")]

SESSION = "bench-session-0001"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def world_build(directory: Path) -> Path:
    import session_world
    from spotrec.writers.sqlite import write_store

    write_store(directory, list(session_world.release_items()))
    return directory


def batch_body(session: str, n: int, size: int = 5) -> dict:
    import session_world

    tracks = session_world.all_tracks()
    events = [
        {"track_id": tracks[(n * size + i) % len(tracks)], "event": "play", "event_id": f"{n}-{i}"}
        for i in range(size)
    ]
    return {"session_id": session, "events": events}


def ingest_through_serve(build: Path, batches: int, threads: int) -> dict:
    from serve_support import serving
    from spotrec.server import make_server
    from spotrec_serving.sqlite_event_store import SqliteEventStore

    with serving(make_server(build, port=0)) as server:
        url = f"{server.url}/v1/events"

        def client(worker: int) -> None:
            for n in range(worker, batches, threads):
                data = json.dumps(batch_body(f"serve-session-{worker:04d}", n)).encode()
                request = urllib.request.Request(url, data=data, method="POST")
                request.add_header("Content-Type", "application/json")
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert response.status == 200

        started = time.perf_counter()
        workers = [threading.Thread(target=client, args=(w,)) for w in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
    stored = SqliteEventStore(build / "events.sqlite").count_events()
    return {"events": batches * 5, "stored": stored, "seconds": elapsed}


def session_events(handler_post) -> None:
    """3 likes, 3 skips, 2 plays and 20 shown tracks: a session with something to react to."""
    import session_world

    tracks = session_world.all_tracks()
    events = [{"track_id": tracks[i], "event": "like"} for i in (1, 2, 3)]
    events += [{"track_id": tracks[i], "event": "skip"} for i in (70, 71, 72)]
    events += [{"track_id": tracks[i], "event": "play"} for i in (4, 5)]
    events[0]["impression"] = tracks[100:120]
    handler_post({"session_id": SESSION, "events": events})


def recommend_event(session: str | None) -> dict:
    import session_world

    tracks = session_world.all_tracks()
    event = json.loads((ROOT / "tests" / "events" / "recommend.json").read_text())
    query = {"seed_tracks": f"{tracks[0]},{tracks[130]}", "limit": "20"}
    if session:
        query["session_id"] = session
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return event


def latency(handler, repeat: int) -> tuple[list[float], list[float]]:
    """Warm timings of the plain and the session-aware request, ALTERNATED in one loop so both
    see the same machine load (the 2 cores are shared)."""
    from lambda_fixtures import LAMBDA_CONTEXT

    plain, aware = recommend_event(None), recommend_event(SESSION)
    for _ in range(20):
        for event in (plain, aware):
            assert handler(event, LAMBDA_CONTEXT)["statusCode"] == 200
    timings: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for event, bucket in ((plain, timings[0]), (aware, timings[1])):
            started = time.perf_counter()
            handler(event, LAMBDA_CONTEXT)
            bucket.append((time.perf_counter() - started) * 1000)
    return timings


def post_through_lambda(body: dict) -> None:
    from lambda_fixtures import LAMBDA_CONTEXT

    import events_app

    event = json.loads((ROOT / "tests" / "events" / "post_events.json").read_text())
    event["body"] = json.dumps(body)
    response = events_app.lambda_handler(event, LAMBDA_CONTEXT)
    assert response["statusCode"] == 200, response["body"]


def report_latency(label: str, plain: list[float], aware: list[float]) -> None:
    for name, values in (("plain", plain), ("session-aware", aware)):
        print(
            f"{label} {name:>14}: p50 {statistics.median(values):.2f} ms, "
            f"p99 {percentile(values, 0.99):.2f} ms"
        )
    print(f"{label} added p99: {percentile(aware, 0.99) - percentile(plain, 0.99):+.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--listeners", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    for name in ("SPOTREC_TABLE", "SPOTREC_EVENTS_TABLE", "SPOTREC_EVENTS_DB"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory() as tmp:
        build = world_build(Path(tmp) / "build")
        ingest = ingest_through_serve(build, args.batches, args.threads)
        print(
            f"ingest via spotrec serve (SQLite, {args.threads} client threads, 5 events/POST): "
            f"{ingest['events'] / ingest['seconds']:,.0f} events/s "
            f"({ingest['events']} events in {ingest['seconds']:.2f} s; stored {ingest['stored']})"
        )
        sqlite_section(build, args)
        taste_section(build, args.listeners)
    dynamodb_section(args)


def sqlite_section(build: Path, args) -> None:
    from spotrec.apigw_event import load_lambda_handler

    os.environ["SPOTREC_STORE"] = str(build)
    os.environ["SPOTREC_EVENTS_DB"] = str(build / "events-latency.sqlite")
    handler = load_lambda_handler()
    session_events(post_through_lambda)
    report_latency("SQLite  ", *latency(handler, args.repeat))
    os.environ.pop("SPOTREC_EVENTS_DB")


def taste_section(build: Path, listeners: int) -> None:
    import session_world
    from spotrec_serving.sqlite_event_store import SqliteEventStore
    from spotrec_serving.sqlite_store import SqliteStore

    figures = session_world.measure(
        SqliteStore(build), SqliteEventStore(build / "events-tastes.sqlite"), listeners
    )
    print(f"planted tastes ({listeners} listeners, top-20): {json.dumps(figures)}")


def dynamodb_section(args) -> None:
    import boto3
    from event_store_fixtures import EVENTS_TABLE, ITEMS_TABLE

    import session_world
    from aws_support import REGION, create_events_table, create_template_table, moto_server
    from spotrec.apigw_event import load_lambda_handler

    with moto_server():
        client = boto3.client("dynamodb", region_name=REGION)
        create_template_table(client, ITEMS_TABLE)
        create_events_table(client, EVENTS_TABLE)
        from spotrec.writers.dynamo_write import to_dynamo_item

        for logical, body in session_world.release_items():  # packed lists as B, JSON as S
            item = to_dynamo_item(session_world.RUN_ID, logical, body, 4_102_444_800)
            client.put_item(TableName=ITEMS_TABLE, Item=item)
        current = {"pk": {"S": "CURRENT"}, "run_id": {"S": session_world.RUN_ID}}
        client.put_item(TableName=ITEMS_TABLE, Item=current)
        os.environ.pop("SPOTREC_STORE", None)
        os.environ["SPOTREC_TABLE"] = ITEMS_TABLE
        os.environ["SPOTREC_EVENTS_TABLE"] = EVENTS_TABLE
        batches = max(1, args.batches // 4)
        started = time.perf_counter()
        for n in range(batches):
            post_through_lambda(batch_body(f"moto-session-{n % 20:04d}", n))
        elapsed = time.perf_counter() - started
        print(
            f"ingest via the events Lambda -> DynamoDB (moto server, 1 caller, 5 events/POST): "
            f"{batches * 5 / elapsed:,.0f} events/s ({batches * 5} events in {elapsed:.2f} s)"
        )
        handler = load_lambda_handler()
        session_events(post_through_lambda)
        repeat = max(50, args.repeat // 4)
        report_latency("DynamoDB", *latency(handler, repeat))
        calls = count_round_trips(handler)
        print(f"DynamoDB calls per warm request: plain {calls[0]}, session-aware {calls[1]}")


def count_round_trips(handler) -> tuple[list[str], list[str]]:
    """The DynamoDB operations of one warm request (CURRENT cached), plain and session-aware."""
    from lambda_fixtures import LAMBDA_CONTEXT

    from spotrec_serving.config import Config
    from spotrec_serving.factory import make_store

    client = make_store(Config.from_env()).client
    result = []
    for session in (None, SESSION):
        calls: list[str] = []

        def hook(model, calls=calls, **_):
            calls.append(model.name)

        client.meta.events.register("before-call.dynamodb.*", hook)
        assert handler(recommend_event(session), LAMBDA_CONTEXT)["statusCode"] == 200
        client.meta.events.unregister("before-call.dynamodb.*", hook)
        result.append(calls)
    return result[0], result[1]


if __name__ == "__main__":
    main()
