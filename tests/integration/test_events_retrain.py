"""The retrain's first step (infra/retrain.py export-events, the state machine's ExportEvents)
against a moto server: events in the events table -> an events log in the run's staging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from aws_support import REGION, TEMPLATE, create_events_table, moto_server
from spotrec.writers import stack_template
from spotrec_serving.dynamodb_event_store import DynamoDBEventStore
from spotrec_serving.events import Event

pytestmark = pytest.mark.integration

RETRAIN = Path(__file__).resolve().parents[2] / "infra" / "retrain.py"
BIN = Path(sys.executable).parent
BUCKET, EVENTS = "spotrec-retrain", "spotrec-events"


def test_export_events_stage_leaves_the_log_in_staging(tmp_path):
    with moto_server():
        ddb, s3 = boto3.client("dynamodb", region_name=REGION), boto3.client("s3")
        create_events_table(ddb, EVENTS)
        stack_template.create_bucket(s3, stack_template.load_template(TEMPLATE), BUCKET, REGION)
        store = DynamoDBEventStore(EVENTS, client=ddb)
        for n, (session, kind) in enumerate([("session-a1", "like"), ("session-b2", "skip")] * 3):
            track = f"{n:022d}"
            event = Event(f"c:{n}", session, track, kind, 1_767_225_600_000 + n)
            store.put_events(session, [event], {})
        store.put_events("session-a1", [Event("c:0", "session-a1", f"{0:022d}", "like", 1)], {})

        env = {
            **os.environ,
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "SPOTREC_WORK": str(tmp_path / "work"),
            "SPOTREC_BUCKET": BUCKET,
            "SPOTREC_EVENTS_TABLE": EVENTS,
            "SPOTREC_RETRAIN_ID": "execution-1",
        }
        result = subprocess.run(
            [sys.executable, str(RETRAIN), "export-events"], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        key = "staging/execution-1/events/events.jsonl"
        lines = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 6  # the retried event once
    assert {(r["session_id"], r["event"]) for r in rows} == {
        ("session-a1", "like"),
        ("session-b2", "skip"),
    }
    assert rows[0] == {
        "session_id": "session-a1",
        "track_id": f"{0:022d}",
        "event": "like",
        "timestamp": "2026-01-01T00:00:00.000Z",
    }
