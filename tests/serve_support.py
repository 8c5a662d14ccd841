"""For tests that go through `spotrec serve`: a hand-made build on disk (tracks, one model's
neighbour lists, manifest, SQLite store) and a server running in a thread.

pandas and the writers are imported inside write_build: this module sits on the tests' import
path and Lambda tests must be able to run without the batch extra installed.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spotrec.server import SpotrecHTTPServer


def write_build(
    out: Path,
    track_rows: Iterable[dict],
    neighbour_rows: Iterable[tuple[str, int, str, float]],
    manifest_fields: dict[str, Any],
    *,
    model: str = "cosine",
) -> Path:
    """Write a build to ``out`` as `spotrec build` lays it out: tracks.parquet from
    ``track_rows`` (schema.TRACK_COLUMNS), neighbours/<model>.parquet from ``(track_id, rank,
    neighbour_id, score)`` rows, the manifest (``manifest_fields`` plus the files written) and
    store.sqlite. The answers are whatever the caller wrote: known by construction."""
    import pandas as pd

    from spotrec import manifest, schema
    from spotrec.writers.sqlite import write_store

    tracks = pd.DataFrame(list(track_rows), columns=list(schema.TRACK_COLUMNS))
    neighbours = pd.DataFrame(list(neighbour_rows), columns=list(schema.NEIGHBOUR_COLUMNS))
    neighbours = neighbours.astype({schema.NB_RANK: "int32", schema.NB_SCORE: "float32"})
    (out / schema.NEIGHBOURS_DIR).mkdir(parents=True)
    tracks.to_parquet(out / schema.TRACKS_FILE, index=False)
    neighbours.to_parquet(out / schema.NEIGHBOURS_DIR / f"{model}.parquet", index=False)
    manifest.write_manifest(out, {**manifest_fields, "files": manifest.describe_files(out)})
    write_store(out)
    return out


@contextmanager
def serving(server: SpotrecHTTPServer) -> Iterator[SpotrecHTTPServer]:
    """Run ``server`` (spotrec.server.make_server) in a thread; shut it down and close it after."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


SERVING_VARIABLES = (
    "SPOTREC_TABLE",
    "SPOTREC_STORE",
    "SPOTREC_EVENTS_TABLE",
    "SPOTREC_EVENTS_DB",
    "SPOTREC_BASE_URL",
    "SPOTREC_CURRENT_TTL_SECONDS",
)


@contextmanager
def store_environment(**values: str) -> Iterator[None]:
    """Only ``values`` of the serving variables set while the block runs, restored afterwards
    (the server and the handler read them per request)."""
    saved = {name: os.environ.pop(name, None) for name in SERVING_VARIABLES}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


def http_get(base: str, path: str) -> tuple[int, dict]:
    """(status, JSON body) of a GET, errors included (they are Spotify-shaped JSON too)."""
    try:
        with urllib.request.urlopen(base + path, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def served_answers(
    paths: list[str], base_url: str, *, table: str | None = None, build: Path | None = None
) -> list[tuple[int, dict]]:
    """(status, JSON) of each path through `spotrec serve`: from DynamoDB (``table``) or from
    the build's SQLite store, hrefs under ``base_url``, CURRENT read afresh every request."""
    from spotrec import server as srv

    env = {"SPOTREC_BASE_URL": base_url, "SPOTREC_CURRENT_TTL_SECONDS": "0"}
    if table:
        env["SPOTREC_TABLE"] = table
    with (
        store_environment(**env),
        serving(srv.make_server(str(build) if build else None, port=0)) as server,
    ):
        return [http_get(server.url, path) for path in paths]
