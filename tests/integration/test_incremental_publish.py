"""Incremental publish on a moto server over HTTP: release A, then A changed by ~1% (4 tracks
added, 2 removed; built with --previous A) published incrementally. Answers equal a full
publish of the changed build; only the parts whose content changed are written; a reader
pinned to A sees only A's items, during the publish and after; rollback serves A again."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from aws_support import REGION, TEMPLATE, moto_server, run_command
from incremental_support import expected_writes, grown_catalogues, stored_keys
from serve_support import served_answers

pytestmark = pytest.mark.integration

BASE_URL = "https://api.example.test/v1stage"
BUCKET = "spotrec-inc"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, Path]:
    """Build A (400 synthetic tracks) and build B: A minus 2 tracks plus 4 new ones."""
    root = tmp_path_factory.mktemp("incremental")
    base, grown = grown_catalogues(root)
    out = {"a": root / "a", "b": root / "b"}
    for name, data, extra_args in (("a", base, []), ("b", grown, ["--previous", str(out["a"])])):
        argv = ["--data", str(data), "--out", str(out[name]), "--models", "cosine"]
        assert run_command("spotrec.build", argv + extra_args) == 0
    return out


def target(table: str, **kwargs):
    from spotrec.writers import aws

    return aws.Target(table=table, bucket=BUCKET, workers=2, **kwargs)


def publish(build: Path, table: str, **kwargs):
    from spotrec.writers import aws

    return aws.publish(build, target(table, **kwargs), create_missing=True, template_path=TEMPLATE)


def run_id(build: Path) -> str:
    return json.loads((build / "manifest.json").read_text())["run_id"]


def paths_for(builds: dict[str, Path]) -> list[str]:
    import pyarrow.parquet as pq

    ids_a = pq.read_table(builds["a"] / "tracks.parquet")["track_id"].to_pylist()
    ids_b = pq.read_table(builds["b"] / "tracks.parquet")["track_id"].to_pylist()
    genre = pq.read_table(builds["b"] / "tracks.parquet")["genres"][0].as_py()[0]
    new = [i for i in ids_b if i not in set(ids_a)]
    gone = [i for i in ids_a if i not in set(ids_b)]
    assert len(new) == 4 and len(gone) == 2
    return [
        f"/v1/recommendations?seed_tracks={','.join(ids_b[:5])}&limit=30",
        f"/v1/recommendations?seed_tracks={new[0]},{ids_b[50]}&limit=20",
        f"/v1/recommendations?seed_tracks={ids_b[300]}&min_energy=0.3&limit=10",
        f"/v1/recommendations?seed_genres={genre}&limit=5",
        f"/v1/tracks?ids={','.join([*new[:2], *ids_b[10:13]])}",
        f"/v1/tracks/{gone[0]}",  # removed in B: 404 there
        "/v1/search?q=a&type=track&limit=10",
        "/v1/recommendations/available-genre-seeds",
    ]


def answers(paths: list[str], *, table: str | None = None, build: Path | None = None) -> list:
    return served_answers(paths, BASE_URL, table=table, build=build)


def test_incremental_publish(endpoint, builds):
    from spotrec.writers import aws
    from spotrec.writers.items import iter_release_items
    from spotrec_serving.dynamodb_store import DynamoDBStore

    run_a, run_b = run_id(builds["a"]), run_id(builds["b"])
    assert run_a != run_b
    paths = paths_for(builds)
    first = publish(builds["a"], "inc")
    assert first.items_carried == 0

    # A reader that read CURRENT before the publish keeps it (a long pointer TTL).
    pinned = DynamoDBStore("inc", current_ttl_seconds=3600)
    assert pinned.current_run() == run_a
    sample = [key for key, _ in iter_release_items(builds["a"]) if key != "META"][::37][:90]
    expected_a = dict(pinned.get_items(run_a, sample))
    assert len(expected_a) == len(sample)
    seen_during: list[dict] = []

    def read_while_writing(**_) -> None:
        if len(seen_during) < 3:  # after each of the first BatchWriteItem calls of B
            seen_during.append(pinned.get_items(pinned.current_run(), sample))

    inc_target = target("inc")
    inc_target.dynamodb.meta.events.register(
        "after-call.dynamodb.BatchWriteItem", read_while_writing
    )
    second = aws.publish(builds["b"], inc_target)
    assert len(seen_during) >= 3 and all(seen == expected_a for seen in seen_during)
    assert pinned.get_items(pinned.current_run(), sample) == expected_a  # still pinned to A

    # Only the changed parts were written, each exactly once; the rest was carried.
    written = {key.removeprefix(run_b + "#") for key in stored_keys("inc", run_b)}
    assert written == expected_writes(builds["a"], builds["b"])
    assert second.items_written == len(written)
    total = sum(1 for _ in iter_release_items(builds["b"]))
    assert second.items_carried == total - len(written) > 0
    kinds = Counter(key.split("#")[0] for key in written)
    # the 4 new tracks, plus kept tracks sharing a part with a new or removed one (~1 a part)
    assert 4 <= kinds["T"] <= 20
    assert 0 < kinds["N"] < 400  # lists that gained a new track or lost a removed one

    # Same answers as a full publish of B (another table) and as B's SQLite store.
    full = publish(builds["b"], "full", incremental=False)
    assert full.items_carried == 0 and full.items_written == total
    from_incremental = answers(paths, table="inc")
    assert [status for status, _ in from_incremental] == [200] * 5 + [404, 200, 200]
    assert from_incremental == answers(paths, table="full")
    assert from_incremental == answers(paths, build=builds["b"])

    # Rollback serves A again, whole.
    rolled = aws.rollback(target("inc"))
    assert rolled.run_id == run_a
    paths_a = paths[:1] + paths[3:]
    assert answers(paths_a, table="inc") == answers(paths_a, build=builds["a"])


def test_a_carried_part_whose_run_expires_soon_is_rewritten(endpoint, builds):
    """Carried items keep the TTL of the publish that wrote them: a holder closer to expiry
    than refresh_days is not carried (its parts are rewritten), so the release never expires
    early. With refresh_days past the lifetime nothing can be carried."""
    from spotrec.writers.items import iter_release_items

    publish(builds["a"], "refresh")
    result = publish(builds["b"], "refresh", refresh_days=100)
    total = sum(1 for _ in iter_release_items(builds["b"]))
    assert result.items_carried == 0 and result.items_written == total
    meta = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName="refresh", Key={"pk": {"S": f"{run_id(builds['b'])}#META"}}
    )["Item"]
    assert "parts" not in json.loads(meta["body"]["S"])
