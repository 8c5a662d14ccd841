"""The feedback loop end to end, over HTTP: listening events posted to `spotrec serve` land in
the DynamoDB events table of a moto server on 127.0.0.1; `spotrec events export` turns them into
an events log; `spotrec build --interactions` on that log makes a new release whose co-listening
reflects them. Planted by construction on a small synthetic catalogue: two tracks that content
does NOT pair (neither is in the other's cosine list) are played together in many sessions, so
after the rebuild each is the other's first co-listening neighbour, and the API says why."""

from __future__ import annotations

import json
import random
import urllib.request
from pathlib import Path

import boto3
import pandas as pd
import pytest

from aws_support import REGION, create_events_table, moto_server
from serve_support import serving, store_environment
from spotrec import schema
from spotrec.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVENTS_TABLE = "spotrec-events-loop"
PAIR_SESSIONS, BACKGROUND_SESSIONS = 12, 30


def http_json(url: str, payload: dict | None = None) -> tuple[int, dict]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def unpaired_by_content(build: Path) -> tuple[str, str, list[str]]:
    """Two tracks of different songs, neither in the other's cosine list, and the rest."""
    tracks = pd.read_parquet(build / schema.TRACKS_FILE)
    lists = pd.read_parquet(build / schema.NEIGHBOURS_DIR / "cosine.parquet")
    near = lists.groupby(schema.NB_TRACK_ID)[schema.NB_NEIGHBOUR_ID].agg(set).to_dict()
    songs = dict(zip(tracks[schema.TRACK_ID], tracks[schema.SONG_ID], strict=True))
    ids = list(tracks[schema.TRACK_ID])
    x = ids[0]
    y = next(t for t in ids[1:] if songs[t] != songs[x] and t not in near[x] and x not in near[t])
    others = [t for t in ids if songs[t] not in (songs[x], songs[y])]
    return x, y, others


def sessions(x: str, y: str, others: list[str]) -> dict[str, list[str]]:
    rng = random.Random(5)
    planted = {
        f"pair-session-{n:02d}": [x, y, *rng.sample(others, 2)] for n in range(PAIR_SESSIONS)
    }
    background = {f"background-{n:02d}": rng.sample(others, 4) for n in range(BACKGROUND_SESSIONS)}
    return planted | background


def test_posted_events_become_colistening_neighbours_after_export_and_rebuild(tmp_path):
    from spotrec.data.synth import write_synthetic_csv
    from spotrec.server import make_server

    csv = write_synthetic_csv(tmp_path / "catalogue.csv.gz", n_tracks=300, seed=11)
    first, second = tmp_path / "first", tmp_path / "second"
    common = ["build", "--data", str(csv), "--top-n", "20", "--synthetic"]
    assert main([*common, "--out", str(first), "--models", "cosine"]) == 0
    x, y, others = unpaired_by_content(first)
    played = sessions(x, y, others)
    with moto_server(), store_environment(SPOTREC_EVENTS_TABLE=EVENTS_TABLE):
        client = boto3.client("dynamodb", region_name=REGION)
        create_events_table(client, EVENTS_TABLE)
        # 1. post: one POST per session through `spotrec serve` (the events Lambda)
        with serving(make_server(first, port=0)) as server:
            for session, tracks in played.items():
                events = [
                    {"track_id": t, "event": "play", "event_id": f"{session}-{i}"}
                    for i, t in enumerate(tracks)
                ]
                status, answer = http_json(
                    f"{server.url}/v1/events", {"session_id": session, "events": events}
                )
                assert (status, answer["accepted"]) == (200, len(tracks))
        # 2. in the table: every event once
        items = client.scan(TableName=EVENTS_TABLE)["Items"]
        stored = {(i["session_id"]["S"], i["track_id"]["S"]) for i in items if "event" in i}
        assert stored == {(s, t) for s, tracks in played.items() for t in tracks}
        # 3. export the table as the events log the build reads
        log = tmp_path / "events.csv"
        assert main(["events", "export", "--table", EVENTS_TABLE, "--to", str(log)]) == 0
    exported = pd.read_csv(log)
    assert len(exported) == sum(len(tracks) for tracks in played.values())

    # 4. rebuild with the export (every session trains: --heldout-share 0)
    models = ["--models", "cosine,colistening", "--heldout-share", "0"]
    assert main([*common, "--out", str(second), *models, "--interactions", str(log)]) == 0

    # 5. the new release's co-listening pairs the planted tracks, and the API says why
    lists = pd.read_parquet(second / schema.NEIGHBOURS_DIR / "colistening.parquet")
    first_of = lists[lists[schema.NB_RANK] == 1].set_index(schema.NB_TRACK_ID)
    assert first_of.loc[x, schema.NB_NEIGHBOUR_ID] == y
    assert first_of.loc[y, schema.NB_NEIGHBOUR_ID] == x
    with store_environment(), serving(make_server(second, port=0)) as server:
        query = f"seed_tracks={x}&model=colistening&limit=3"
        status, answer = http_json(f"{server.url}/v1/recommendations?{query}")
    assert status == 200
    top = answer["tracks"][0]
    assert top["id"] == y
    assert "listened_together" in top["reasons"][0]["kinds"]
