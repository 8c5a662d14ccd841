"""`spotrec publish` as a command: arguments, env defaults, JSON summary, clear errors."""

from __future__ import annotations

import argparse
import json
import types

import boto3
import pytest
from moto import mock_aws

from aws_support import DUMMY_CREDENTIALS, REGION, TEMPLATE, hand_made_items, make_build_dir
from spotrec import publish
from spotrec.errors import SpotrecError

TRACKS = 12


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    publish.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("SPOTREC_TABLE", raising=False)
    monkeypatch.delenv("SPOTREC_BUCKET", raising=False)
    # The items of a hand-made build (the real iter_release_items reads Parquet).
    import spotrec.writers.items as real_items

    fake = types.ModuleType("spotrec.writers.items")
    fake.__dict__.update({k: v for k, v in vars(real_items).items() if not k.startswith("__")})
    fake.iter_release_items = lambda build_dir: hand_made_items(build_dir.name, TRACKS)
    monkeypatch.setitem(__import__("sys").modules, "spotrec.writers.items", fake)
    with mock_aws():
        yield


def test_publish_then_rollback_from_the_command_line(aws_env, tmp_path, capsys, monkeypatch):
    for run_id in ("run-a", "run-b"):
        build = make_build_dir(tmp_path / run_id, run_id, TRACKS)
        target = ["--bucket", "spotrec-cli", "--table", "t"]
        args = parse(
            ["--from", str(build), *target, "--create-missing", "--template", str(TEMPLATE)]
        )
        assert publish.run(args) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [s["run_id"] for s in summaries] == ["run-a", "run-b"]
    assert summaries[1]["previous"] == ["run-a"]

    monkeypatch.setenv("SPOTREC_TABLE", "t")  # the table can come from the environment
    assert publish.run(parse(["--rollback"])) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == "run-a"
    ddb = boto3.client("dynamodb", region_name=REGION)
    item = ddb.get_item(TableName="t", Key={"pk": {"S": "CURRENT"}})["Item"]
    assert item["run_id"]["S"] == "run-a"


def test_missing_arguments_are_named(aws_env, tmp_path):
    with pytest.raises(SpotrecError, match="--table"):
        publish.run(parse(["--from", str(tmp_path)]))
    with pytest.raises(SpotrecError, match="--from"):
        publish.run(parse(["--table", "t", "--bucket", "b"]))
    with pytest.raises(SpotrecError, match="not a build directory"):
        publish.run(parse(["--from", str(tmp_path), "--table", "t", "--bucket", "b"]))
    build = make_build_dir(tmp_path / "run-a", "run-a", TRACKS)
    with pytest.raises(SpotrecError, match=r"AWS call failed: .*InvalidBucketName"):
        publish.run(
            parse(["--from", str(build), "--table", "t", "--bucket", "b", "--create-missing"])
        )
