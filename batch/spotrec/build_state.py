"""What the build's stages share on disk: the state file the train stage writes for the later
stages (ingest counts, model summaries, timings), and which models have embeddings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.errors import SpotrecError

STATE_FILE = "build-state.json"  # carries ingest counts and model summaries between stages


def embedding_models(models: list[str]) -> list[str]:
    return [m for m in models if m in schema.ALL_MODELS and m != "blend"]


def read_state(out: Path) -> dict[str, Any]:
    path = out / STATE_FILE
    if not path.is_file():
        raise SpotrecError(f"{out} has no {STATE_FILE}: run `spotrec build --stage train` first")
    return json.loads(path.read_text())


def write_state(out: Path, state: dict[str, Any]) -> None:
    (out / STATE_FILE).write_text(json.dumps(state, indent=2, default=str))
