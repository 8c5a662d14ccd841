"""Download: a real offline failure, and verification against a local HTTP server."""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import socket
import threading

import pytest

from spotrec.data import download
from spotrec.data.synth import write_synthetic_csv
from spotrec.errors import SpotrecError


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


def test_without_network_fails_fast_naming_the_ways_forward(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/dataset.csv"
    with pytest.raises(SpotrecError) as info:
        download.download_dataset(tmp_path, url=url, timeout=2)
    message = str(info.value)
    assert "--data PATH" in message and "spotrec data synth" in message
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


def test_cli_offline_error_goes_through_run(tmp_path):
    parser = argparse.ArgumentParser()
    download.add_arguments(parser)
    url = f"http://127.0.0.1:{_closed_port()}/dataset.csv"
    args = parser.parse_args(["--cache", str(tmp_path), "--url", url, "--timeout", "2"])
    with pytest.raises(SpotrecError, match="spotrec data synth"):
        download.run(args)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A small synthetic dataset.csv served over HTTP on 127.0.0.1; yields (base url, file)."""
    root = tmp_path_factory.mktemp("www")
    path = write_synthetic_csv(root / "dataset.csv", 120, seed=5)
    (root / "garbage.csv").write_text("not,the,header\n1,2,3\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", path
    server.shutdown()
    server.server_close()


def _facts(path):
    rows, genres = download.inspect_csv(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), rows, genres


@pytest.mark.integration
def test_right_checksum_is_accepted_with_a_sidecar(served, tmp_path):
    base, source = served
    sha, rows, genres = _facts(source)
    out = download.download_dataset(
        tmp_path,
        url=f"{base}/dataset.csv",
        expected_sha256=sha,
        expected_rows=rows,
        expected_genres=genres,
        timeout=5,
    )
    assert out == tmp_path / download.DATASET_FILE
    assert out.read_bytes() == source.read_bytes()
    sidecar = json.loads((tmp_path / download.SIDECAR_FILE).read_text())
    assert sidecar["sha256"] == sha and sidecar["rows"] == rows and sidecar["genres"] == genres
    assert sidecar["url"] == f"{base}/dataset.csv"


@pytest.mark.integration
def test_wrong_checksum_is_refused_unless_told_not_to_verify(served, tmp_path):
    base, source = served
    _, rows, genres = _facts(source)
    kwargs = dict(
        url=f"{base}/dataset.csv",
        expected_sha256="0" * 64,
        expected_rows=rows,
        expected_genres=genres,
        timeout=5,
    )
    with pytest.raises(SpotrecError, match="--no-verify-checksum"):
        download.download_dataset(tmp_path, **kwargs)
    assert not (tmp_path / download.DATASET_FILE).exists()
    out = download.download_dataset(tmp_path, verify_checksum=False, **kwargs)
    assert out.read_bytes() == source.read_bytes()


@pytest.mark.integration
def test_wrong_row_count_genre_count_or_header_is_refused(served, tmp_path):
    base, source = served
    sha, rows, _ = _facts(source)
    url = f"{base}/dataset.csv"
    with pytest.raises(SpotrecError, match=f"{rows:,} data rows, expected 114,000"):
        download.download_dataset(tmp_path, url=url, expected_sha256=sha, timeout=5)
    with pytest.raises(SpotrecError, match="genres, expected 999"):
        download.download_dataset(
            tmp_path,
            url=url,
            expected_sha256=sha,
            expected_rows=rows,
            expected_genres=999,
            timeout=5,
        )
    with pytest.raises(SpotrecError, match="unexpected header"):
        download.download_dataset(tmp_path, url=f"{base}/garbage.csv", timeout=5)
    with pytest.raises(SpotrecError, match="HTTP 404"):
        download.download_dataset(tmp_path, url=f"{base}/missing.csv", timeout=5)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_default_cache_honours_spotrec_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SPOTREC_CACHE", str(tmp_path / "c"))
    assert download.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("SPOTREC_CACHE")
    assert download.default_cache_dir().parts[-2:] == (".cache", "spotrec")
