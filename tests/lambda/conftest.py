"""Fixtures of the Lambda tests (helpers and the hand-made release: lambda_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lambda_fixtures import LAMBDA_CONTEXT, release_items, response_headers

from spotrec.writers.sqlite import write_store


@pytest.fixture(scope="session")
def store_file(tmp_path_factory) -> Path:
    return write_store(tmp_path_factory.mktemp("release"), release_items())


@pytest.fixture
def handler(store_file, monkeypatch):
    """app.lambda_handler reading the tiny release; returns (status, json body, headers)."""
    monkeypatch.setenv("SPOTREC_STORE", str(store_file))
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    monkeypatch.delenv("SPOTREC_BASE_URL", raising=False)
    import app

    def invoke(event: dict) -> tuple[int, dict, dict]:
        response = app.lambda_handler(event, LAMBDA_CONTEXT)
        return response["statusCode"], json.loads(response["body"]), response_headers(response)

    return invoke
