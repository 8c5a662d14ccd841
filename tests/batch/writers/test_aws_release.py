"""The CURRENT pointer's pure transitions and its conditional write."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from aws_support import DUMMY_CREDENTIALS, REGION, create_template_table
from spotrec.errors import SpotrecError
from spotrec.writers import release
from spotrec.writers.release import Pointer, ReleaseConflictError


def test_promote_keeps_the_last_runs_and_retires_the_rest():
    read = Pointer("c", revision=5, previous=["b", "a"], retired=["old"])
    new = release.promoted(read, "d", keep=3)
    assert new == Pointer("d", revision=6, previous=["c", "b"], retired=["old", "a"])


def test_promoting_a_kept_run_again_does_not_duplicate_it():
    read = Pointer("c", revision=1, previous=["b", "a"])
    assert release.promoted(read, "b", keep=3).previous == ["c", "a"]
    assert release.promoted(Pointer(None), "a", keep=3) == Pointer("a", 1, [], [])


def test_rollback_needs_a_previous_run():
    assert release.rolled_back(Pointer("b", 2, ["a"])) == Pointer("a", 3, [], ["b"])
    with pytest.raises(SpotrecError, match="nothing to roll back"):
        release.rolled_back(Pointer("a", 1, []))
    with pytest.raises(SpotrecError, match="no release"):
        release.rolled_back(Pointer(None))


def test_a_pointer_move_loses_to_a_concurrent_one(monkeypatch):
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_template_table(client, "t")
        empty = release.read_pointer(client, "t")
        release.move_pointer(client, "t", empty, release.promoted(empty, "a", 3), "publish")
        with pytest.raises(ReleaseConflictError, match="CURRENT moved"):  # stale read: empty
            release.move_pointer(client, "t", empty, release.promoted(empty, "b", 3), "publish")
        read_a = release.read_pointer(client, "t")
        release.move_pointer(client, "t", read_a, release.promoted(read_a, "b", 3), "publish")
        with pytest.raises(ReleaseConflictError):  # run a, but an older revision
            release.move_pointer(client, "t", read_a, release.promoted(read_a, "c", 3), "publish")
        assert release.read_pointer(client, "t") == Pointer("b", 2, ["a"], [])
