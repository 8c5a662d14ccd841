"""Importing the handler loads no heavy library (the Lambda package must stay tiny)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"
HEAVY = ("numpy", "pandas", "pyarrow", "torch", "faiss")


def test_importing_app_loads_no_heavy_module():
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import app; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in sys.argv[2:])))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(LAMBDA_DIR), *HEAVY],
        capture_output=True,
        text=True,
        check=True,
        cwd=LAMBDA_DIR,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_handler_serves_a_request_without_heavy_modules(store_file):
    event = Path(__file__).resolve().parents[1] / "events" / "recommend.json"
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import app; "
        "r = app.lambda_handler(json.load(open(sys.argv[2])), None); "
        "print(r['statusCode'], sorted(m for m in sys.modules if m.split('.')[0] in sys.argv[3:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(LAMBDA_DIR), str(event), *HEAVY],
        capture_output=True,
        text=True,
        check=True,
        env={"SPOTREC_STORE": str(store_file), "PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.strip().splitlines()[-1] == "200 []"


def test_the_events_handler_records_events_without_heavy_modules(store_file, tmp_path):
    event = json.loads(
        (Path(__file__).resolve().parents[1] / "events" / "post_events.json").read_text()
    )
    (tmp_path / "post.json").write_text(json.dumps(event))
    code = (
        "import sys, json; sys.path.insert(0, sys.argv[1]); import events_app; "
        "r = events_app.lambda_handler(json.load(open(sys.argv[2])), None); "
        "print(r['statusCode'], sorted(m for m in sys.modules if m.split('.')[0] in sys.argv[3:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(LAMBDA_DIR), str(tmp_path / "post.json"), *HEAVY],
        capture_output=True,
        text=True,
        check=True,
        env={
            "SPOTREC_STORE": str(store_file),
            "SPOTREC_EVENTS_DB": str(tmp_path / "events.sqlite"),
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.stdout.strip().splitlines()[-1] == "200 []"
