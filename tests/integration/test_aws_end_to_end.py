"""The production path on a moto server over HTTP: synth -> build -> publish -> serve from
DynamoDB (handler and `spotrec serve`) -> the same answers as the build's SQLite store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from aws_support import REGION, TEMPLATE, moto_server, run_command
from serve_support import served_answers, store_environment

pytestmark = pytest.mark.integration

BASE_URL = "https://api.example.test/v1stage"  # same hrefs from both stores


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


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


def answers(paths: list[str], *, table: str | None = None, build: Path | None = None) -> list:
    """(status, JSON) of each path through `spotrec serve`, on DynamoDB (table) or SQLite."""
    return served_answers(paths, BASE_URL, table=table, build=build)


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
    with store_environment(SPOTREC_TABLE=published):
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
