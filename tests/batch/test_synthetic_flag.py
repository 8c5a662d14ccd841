"""`spotrec build --synthetic` (what `spotrec demo` passes for its generated catalogue) marks the
release, so the page can leave out "Open in Spotify" links that would lead nowhere."""

from __future__ import annotations

import json
import sqlite3

from spotrec import schema
from spotrec.cli import main
from spotrec.data.synth import write_synthetic_csv


def meta_of(build_dir) -> dict:
    with sqlite3.connect(build_dir / schema.STORE_FILE) as db:
        (body,) = db.execute("SELECT body FROM items WHERE pk LIKE '%#META'").fetchone()
    return json.loads(body)


def test_the_synthetic_flag_reaches_the_release_meta(tmp_path):
    data = write_synthetic_csv(tmp_path / "c.csv.gz", n_tracks=200, seed=3)
    for flag, expected in (([], False), (["--synthetic"], True)):
        out = tmp_path / f"out-{expected}"
        argv = [
            "build",
            "--data",
            str(data),
            "--out",
            str(out),
            "--models",
            "cosine",
            "--top-n",
            "5",
        ]
        assert main(argv + flag) == 0
        assert meta_of(out)["synthetic"] is expected
        assert json.loads((out / schema.MANIFEST_FILE).read_text())["synthetic"] is expected
