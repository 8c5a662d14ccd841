"""Logger, Tracer and Metrics are switched by environment, and tracing costs nothing locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"

PROBE = """
import json, sys
import app
event = json.load(open(sys.argv[1]))
response = app.lambda_handler(event, None)
print(json.dumps({"xray": "aws_xray_sdk" in sys.modules, "status": response["statusCode"]}))
"""


def run_probe(tmp_path, **env_overrides) -> tuple[dict, str]:
    event = json.loads((LAMBDA_DIR.parent / "tests/events/genres.json").read_text())
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA", "POWERTOOLS"))}
    env.update({"SPOTREC_STORE": str(tmp_path / "missing.sqlite"), **env_overrides})
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(event_file)],
        cwd=LAMBDA_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


def test_local_runs_do_not_import_the_xray_sdk(tmp_path):
    result, _ = run_probe(tmp_path, POWERTOOLS_METRICS_DISABLED="true")
    assert result["xray"] is False
    assert result["status"] == 503  # no store: a clean error, not a crash


def test_in_lambda_the_tracer_wraps_the_handler(tmp_path):
    pytest.importorskip("aws_xray_sdk", reason="aws-xray-sdk (powertools[tracer]) not installed")
    result, _ = run_probe(
        tmp_path,
        AWS_LAMBDA_FUNCTION_NAME="spotrec-api",
        POWERTOOLS_TRACE_DISABLED="false",
        POWERTOOLS_METRICS_DISABLED="true",
        AWS_SAM_LOCAL="true",  # no X-Ray daemon here
    )
    assert result["xray"] is True


def test_metrics_are_emitted_as_embedded_metric_format(tmp_path):
    _, stdout = run_probe(tmp_path, POWERTOOLS_METRICS_NAMESPACE="spotrec-test")
    emf = [json.loads(line) for line in stdout.splitlines() if '"_aws"' in line]
    assert emf, "no EMF line printed"
    names = {m["Name"] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"Requests", "StoreUnavailable"} <= names
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "spotrec-test"
