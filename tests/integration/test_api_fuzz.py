"""Schemathesis fuzzes `spotrec serve` (the real handler over a small synthetic build) on the
full OpenAPI document it serves: 0 server errors, and every response (status, content type,
headers, body) conforms to the document. Bounded: a fixed number of examples per operation and
a fixed seed, so CI time is fixed and a failure reproduces.

Known ids and genres are fed in through schemathesis dictionaries (with probability < 1, so the
fuzzed values are tried too): requests then reach the success paths, not only the 404s.
positive_data_acceptance / negative_data_rejection are left out: the document cannot express
every rule (5 seeds across two parameters, genres of the release, letters in a query), and the
400s those rules give are declared responses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from api_support import serve, write_synthetic_build

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
MAX_EXAMPLES = 40
SEED = 20240101
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "unsupported_method",
    ]
)


def config_file(path: Path, track_ids: list[str], genres: list[str]) -> Path:
    def toml_list(values: list[str]) -> str:
        return json.dumps(values)  # a JSON list of strings is a TOML array

    path.write_text(
        f"""
[dictionaries.track_ids]
values = {toml_list(track_ids)}

[dictionaries.track_id_lists]
values = {toml_list([",".join(track_ids[i : i + 3]) for i in range(0, 30, 3)])}

[dictionaries.genres]
values = {toml_list(genres)}

[parameters]
"path.id" = {{ dictionary = "track_ids", probability = 0.6 }}
"query.seed_tracks" = {{ dictionary = "track_id_lists", probability = 0.6 }}
"query.ids" = {{ dictionary = "track_id_lists", probability = 0.6 }}
"query.seed_genres" = {{ dictionary = "genres", probability = 0.5 }}
"""
    )
    return path


@pytest.mark.integration
def test_schemathesis_finds_no_server_error_and_no_nonconforming_response(tmp_path, monkeypatch):
    assert SCHEMATHESIS.is_file(), "schemathesis is in the dev extra: pip install -e '.[dev]'"
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    build = write_synthetic_build(tmp_path / "build")
    config = config_file(tmp_path / "schemathesis.toml", build.track_ids, build.genres)
    with serve(build.path) as url:
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(config),
                "run",
                f"{url}/v1/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                str(MAX_EXAMPLES),
                "--seed",
                str(SEED),
                "--phases",
                "examples,coverage,fuzzing",
                "--workers",
                "1",
                "--request-timeout",
                "10",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "Tested: " in output and " passed" in output
