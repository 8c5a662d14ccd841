"""Events end to end over HTTP: through `spotrec serve` into the SQLite file beside the store,
and through the two Lambdas into DynamoDB on a moto server (127.0.0.1); then exported as the
events log the next build reads. (The rebuild from the export is wired with --interactions.)"""

from __future__ import annotations

import csv
import json
import urllib.error
import urllib.request

import boto3
import pytest
from event_store_fixtures import EVENTS_TABLE, ITEMS_TABLE, load_release
from lambda_fixtures import EVENTS_DIR, H2, LAMBDA_CONTEXT, A, B, C, H, release_items

from aws_support import REGION, create_events_table, create_template_table, moto_server
from serve_support import serving
from spotrec.cli import main as spotrec_main

pytestmark = pytest.mark.integration
SESSION = "http-session-01"


def http(method: str, url: str, payload=None, content_type="application/json"):
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def read_csv(path) -> list[tuple[str, str, str]]:
    with open(path, newline="") as handle:
        return [(r["session_id"], r["track_id"], r["event"]) for r in csv.DictReader(handle)]


def test_events_posted_to_spotrec_serve_land_beside_the_store_and_export(tmp_path, monkeypatch):
    from spotrec.server import make_server
    from spotrec.writers.sqlite import write_store

    for name in ("SPOTREC_TABLE", "SPOTREC_EVENTS_TABLE", "SPOTREC_EVENTS_DB"):
        monkeypatch.delenv(name, raising=False)
    build = tmp_path / "build"
    write_store(build, release_items())
    events = [
        {"track_id": A, "event": "like", "event_id": "1"},
        {"track_id": H2, "event": "skip", "event_id": "2"},
    ]
    with serving(make_server(build, port=0)) as server:
        url = server.url
        assert http("POST", f"{url}/v1/events", {"session_id": SESSION, "events": events})[0] == 200
        retry = http("POST", f"{url}/v1/events", {"session_id": SESSION, "events": events})
        assert retry[1]["duplicates"] == 2
        bad = http("POST", f"{url}/v1/events", {"session_id": "x", "events": events})
        assert bad[0] == 400 and bad[1]["error"]["status"] == 400
        status, answer = http(
            "GET", f"{url}/v1/recommendations?seed_tracks={B}&session_id={SESSION}"
        )
        assert status == 200 and H not in [t["id"] for t in answer["tracks"]]
    assert (build / "events.sqlite").is_file()
    out = tmp_path / "log.csv"
    assert spotrec_main(["events", "export", "--store", str(build), "--to", str(out)]) == 0
    assert read_csv(out) == [(SESSION, A, "like"), (SESSION, H2, "skip")]


def test_events_through_the_lambdas_land_in_dynamodb_and_export(tmp_path, monkeypatch):
    with moto_server():
        client = boto3.client("dynamodb", region_name=REGION)
        create_template_table(client, ITEMS_TABLE)
        create_events_table(client, EVENTS_TABLE)
        load_release(client)
        monkeypatch.setenv("SPOTREC_TABLE", ITEMS_TABLE)
        monkeypatch.setenv("SPOTREC_EVENTS_TABLE", EVENTS_TABLE)
        import app
        import events_app

        post = json.loads((EVENTS_DIR / "post_events.json").read_text())
        post["body"] = json.dumps(
            {
                "session_id": SESSION,
                "events": [
                    {"track_id": C, "event": "skip", "event_id": "s1"},
                    {"track_id": A, "event": "play", "event_id": "p1"},
                ],
            }
        )
        for _ in range(2):  # the retry is counted once
            assert events_app.lambda_handler(post, LAMBDA_CONTEXT)["statusCode"] == 200
        scanned = client.scan(TableName=EVENTS_TABLE)["Items"]
        stored = sorted((i["track_id"]["S"], i["event"]["S"]) for i in scanned if "event" in i)
        assert stored == [(A, "play"), (C, "skip")]

        get = json.loads((EVENTS_DIR / "recommend.json").read_text())
        get["queryStringParameters"] = {"seed_tracks": B, "session_id": SESSION}
        get["multiValueQueryStringParameters"] = {"seed_tracks": [B], "session_id": [SESSION]}
        answer = json.loads(app.lambda_handler(get, LAMBDA_CONTEXT)["body"])
        assert C not in [t["id"] for t in answer["tracks"]]

        out = tmp_path / "log.csv"
        argv = ["events", "export", "--table", EVENTS_TABLE, "--segments", "3", "--to", str(out)]
        assert spotrec_main(argv) == 0
        # Both events got the same server time: the order within it is by event key.
        assert sorted(read_csv(out)) == [(SESSION, A, "play"), (SESSION, C, "skip")]
