"""The production path on a moto server over HTTP: synth -> build -> publish -> serve from
DynamoDB (handler and `spotrec serve`) -> the same answers as the build's SQLite store."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from aws_support import REGION, TEMPLATE, moto_server
from serve_support import serving

pytestmark = pytest.mark.integration

BASE_URL = "https://api.example.test/v1stage"  # same hrefs from both stores


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def run_command(module_name: str, argv: list[str]) -> int:
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return module.run(parser.parse_args(argv))


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    """`spotrec data synth` + `spotrec build` on a small synthetic catalogue."""
    root = tmp_path_factory.mktemp("aws-build")
    csv = root / "catalogue.csv"
    assert run_command("spotrec.data.synth", ["--out", str(csv), "--tracks", "400"]) == 0
    out = root / "build"
    assert (
        run_command("spotrec.build", ["--data", str(csv), "--out", str(out), "--models", "cosine"])
        == 0
    )
    return out


@pytest.fixture(scope="session")
def published(moto_endpoint, build_dir) -> str:
    argv = [
        "--from",
        str(build_dir),
        "--bucket",
        "spotrec-it",
        "--table",
        "spotrec-it",
        "--create-missing",
        "--template",
        str(TEMPLATE),
    ]
    assert run_command("spotrec.publish", argv) == 0
    return "spotrec-it"


@contextmanager
def store_env(**values: str | None) -> Iterator[None]:
    names = ["SPOTREC_TABLE", "SPOTREC_STORE", "SPOTREC_BASE_URL", "SPOTREC_CURRENT_TTL_SECONDS"]
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update({k: v for k, v in values.items() if v is not None})
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def requests_for(build_dir: Path) -> list[str]:
    import pyarrow.parquet as pq

    ids = pq.read_table(build_dir / "tracks.parquet", columns=["track_id"])["track_id"].to_pylist()
    genre = pq.read_table(build_dir / "tracks.parquet", columns=["genres"])["genres"][0].as_py()[0]
    return [
        f"/v1/recommendations?seed_tracks={','.join(ids[:5])}&limit=30",
        f"/v1/recommendations?seed_tracks={ids[7]}&limit=10",
        f"/v1/recommendations?seed_tracks={ids[8]},{ids[9]}&per_seed=4",
        f"/v1/recommendations?seed_genres={genre}&limit=5",
        f"/v1/tracks?ids={','.join(ids[10:15])}",
        f"/v1/tracks/{ids[3]}",
        f"/v1/audio-features/{ids[3]}",
        "/v1/search?q=a&type=track&limit=10",
        "/v1/recommendations/available-genre-seeds",
        f"/v1/recommendations?seed_tracks={ids[0]}&limit=0",  # errors must match too
    ]


def http_get(base: str, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@contextmanager
def spotrec_serve(store: str | None) -> Iterator[str]:
    from spotrec import server as srv

    with serving(srv.make_server(store, port=0)) as instance:
        yield instance.url


def answers(paths: list[str], *, table: str | None = None, build: Path | None = None) -> list:
    """(status, JSON) of each path through `spotrec serve`, on DynamoDB (table) or SQLite."""
    env = {"SPOTREC_BASE_URL": BASE_URL, "SPOTREC_CURRENT_TTL_SECONDS": "0"}
    if table:
        env["SPOTREC_TABLE"] = table
    with store_env(**env), spotrec_serve(str(build) if build else None) as url:
        return [http_get(url, path) for path in paths]


def test_dynamodb_release_serves_the_same_answers_as_sqlite_over_http(published, build_dir):
    paths = requests_for(build_dir)
    from_sqlite = answers(paths, build=build_dir)
    from_dynamodb = answers(paths, table=published)

    assert [status for status, _ in from_dynamodb[:-1]] == [200] * (len(paths) - 1)
    assert from_dynamodb[-1][0] == 400
    assert len(from_dynamodb[0][1]["tracks"]) == 30
    assert from_dynamodb == from_sqlite


def test_handler_reads_dynamodb_when_spotrec_table_is_set(published, build_dir, repo_root):
    from spotrec import server as srv

    handler = srv.load_lambda_handler()
    event = json.loads((repo_root / "tests" / "events" / "genres.json").read_text())
    with store_env(SPOTREC_TABLE=published):
        response = handler(event, srv.LocalLambdaContext("it-request"))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["genres"]


def test_a_failed_republish_under_load_never_shows_a_mixed_release(published, build_dir, tmp_path):
    """Publish a second run whose writes die midway: CURRENT and every answer stay the old."""
    import shutil

    from aws_support import FailAfter
    from spotrec import manifest as manifest_module
    from spotrec.writers import aws

    second = tmp_path / "second"
    shutil.copytree(build_dir, second)
    data = manifest_module.read_manifest(second)
    data["run_id"] = "second-run"
    data.pop("version", None)
    manifest_module.write_manifest(second, data)
    # Same content as the current run: an incremental publish would carry every item, so
    # write it in full to have writes to fail.
    target = aws.Target(table=published, bucket="spotrec-it", workers=1, incremental=False)
    FailAfter(target.dynamodb, "BatchWriteItem", n=3)
    with pytest.raises(RuntimeError, match="injected failure"):
        aws.publish(second, target)

    ddb = boto3.client("dynamodb", region_name=REGION)
    current = ddb.get_item(TableName=published, Key={"pk": {"S": "CURRENT"}})["Item"]
    assert current["run_id"]["S"] == manifest_module.read_manifest(build_dir)["run_id"]
    paths = requests_for(build_dir)[:2]
    assert answers(paths, table=published) == answers(paths, build=build_dir)
