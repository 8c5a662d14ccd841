"""SqliteStore: read-only, one query per get_items, CURRENT cached for its TTL, and a store file
replaced by a new build is picked up when the cache expires."""

from __future__ import annotations

import pytest

from spotrec.writers.sqlite import write_store
from spotrec_serving.config import Config
from spotrec_serving.items import META_KEY
from spotrec_serving.sqlite_store import SqliteStore
from spotrec_serving.store import NoReleaseError, StoreError


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def release(run_id: str, value: int) -> list[tuple[str, dict]]:
    return [(META_KEY, {"run_id": run_id}), ("T#x", {"value": value})]


def test_get_items_returns_known_keys_only(tmp_path):
    store = SqliteStore(write_store(tmp_path, release("r1", 1)))
    assert store.current_run() == "r1"
    assert store.get_items("r1", ["T#x", "T#missing"]) == {"T#x": {"value": 1}}
    assert store.get_items("other-run", ["T#x"]) == {}
    assert store.get_items("r1", []) == {}
    with pytest.raises(ValueError, match="at most 100"):
        store.get_items("r1", [f"T#{i}" for i in range(101)])


def test_build_directory_path_is_accepted(tmp_path):
    write_store(tmp_path, release("r1", 1))
    assert SqliteStore(tmp_path).current_run() == "r1"


def test_replaced_file_is_seen_after_the_ttl(tmp_path):
    clock = Clock()
    path = write_store(tmp_path, release("r1", 1))
    store = SqliteStore(path, current_ttl_seconds=30, clock=clock)
    assert store.current_run() == "r1"
    write_store(tmp_path, release("r2", 2))  # atomic replace, new inode
    clock.now = 29.0
    assert store.current_run() == "r1"  # cached pointer: still the old, complete release
    assert store.get_items("r1", ["T#x"]) == {"T#x": {"value": 1}}
    clock.now = 30.0
    assert store.current_run() == "r2"
    assert store.get_items("r2", ["T#x"]) == {"T#x": {"value": 2}}
    # A request that started on r1 still reads r1 consistently from the old file.
    assert store.get_items("r1", ["T#x"]) == {"T#x": {"value": 1}}


def test_connection_is_read_only(tmp_path):
    store = SqliteStore(write_store(tmp_path, release("r1", 1)))
    store.current_run()
    with pytest.raises(Exception, match="readonly"):
        store._connection.execute("DELETE FROM bodies")


def test_missing_file_and_missing_release(tmp_path):
    with pytest.raises(StoreError, match="not readable"):
        SqliteStore(tmp_path / "nope.sqlite").current_run()
    import sqlite3

    empty = tmp_path / "empty.sqlite"
    with sqlite3.connect(empty) as connection:
        connection.execute("CREATE TABLE items (pk TEXT PRIMARY KEY, run_id TEXT, body TEXT)")
    with pytest.raises(NoReleaseError):
        SqliteStore(empty).current_run()


def test_writer_needs_a_run_id(tmp_path):
    with pytest.raises(ValueError, match="no run id"):
        write_store(tmp_path, [("T#x", {})])
    path = write_store(tmp_path, [("T#x", {"v": 1})], run_id="r9")
    assert SqliteStore(path).get_items("r9", ["T#x"]) == {"T#x": {"v": 1}}


def test_failed_write_keeps_the_old_store(tmp_path):
    path = write_store(tmp_path, release("r1", 1))

    def broken():
        yield META_KEY, {"run_id": "r2"}
        raise RuntimeError("build died")

    with pytest.raises(RuntimeError):
        write_store(tmp_path, broken())
    assert SqliteStore(path).current_run() == "r1"
    assert [p.name for p in tmp_path.iterdir()] == ["store.sqlite"]  # no temp file left


def test_config_from_environment():
    config = Config.from_env(
        {"SPOTREC_STORE": "/x", "SPOTREC_CURRENT_TTL_SECONDS": "5", "SPOTREC_BASE_URL": "http://h/"}
    )
    assert config == Config(
        table=None, store_path="/x", current_ttl_seconds=5.0, base_url="http://h"
    )
    assert Config.from_env({}).current_ttl_seconds == 30.0
    with pytest.raises(ValueError, match="SPOTREC_CURRENT_TTL_SECONDS"):
        Config.from_env({"SPOTREC_CURRENT_TTL_SECONDS": "soon"})
