"""The build directory's listening files (names in spotrec.schema): write once, read anywhere.

* listening/train.parquet, listening/heldout.parquet: events (schema.LISTENING_COLUMNS) of the
  training and held-out sessions (split_sessions);
* listening/rejects.csv: every refused row or file with its named reason;
* listening/stats.json: load_listening's counts plus the split's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from spotrec import schema
from spotrec.data.listening.load import ListeningResult, write_listening_rejects
from spotrec.data.listening.weights import split_sessions


def write_listening(
    build_dir: str | os.PathLike,
    result: ListeningResult,
    *,
    heldout_share: float = 0.1,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``result.events`` by session and write the four files; returns (train, heldout)."""
    build_dir = Path(build_dir)
    (build_dir / schema.LISTENING_DIR).mkdir(parents=True, exist_ok=True)
    train, heldout = split_sessions(result.events, heldout_share=heldout_share, seed=seed)
    for frame, name in (
        (train, schema.LISTENING_TRAIN_FILE),
        (heldout, schema.LISTENING_HELDOUT_FILE),
    ):
        path = build_dir / name
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    write_listening_rejects(result.rejects, build_dir / schema.LISTENING_REJECTS_FILE)
    stats = {
        **result.stats,
        "heldout_share": heldout_share,
        "split_seed": seed,
        "train_sessions": int(train[schema.LS_SESSION_ID].nunique()),
        "heldout_sessions": int(heldout[schema.LS_SESSION_ID].nunique()),
        "train_events": len(train),
        "heldout_events": len(heldout),
    }
    (build_dir / schema.LISTENING_STATS_FILE).write_text(json.dumps(stats, indent=2) + "\n")
    return train, heldout


def has_listening(build_dir: str | os.PathLike) -> bool:
    build_dir = Path(build_dir)
    return all(
        (build_dir / name).is_file()
        for name in (schema.LISTENING_TRAIN_FILE, schema.LISTENING_HELDOUT_FILE)
    )


def read_listening(build_dir: str | os.PathLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train events, held-out events) of a build written by write_listening."""
    build_dir = Path(build_dir)
    return (
        pd.read_parquet(build_dir / schema.LISTENING_TRAIN_FILE),
        pd.read_parquet(build_dir / schema.LISTENING_HELDOUT_FILE),
    )


def read_listening_stats(build_dir: str | os.PathLike) -> dict:
    path = Path(build_dir) / schema.LISTENING_STATS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}
