"""The build's listening steps (train_stage.py and list_stages.py call them; build.py
documents the flow).

train stage:  read the listening data against the catalogue (data/listening), split it by
              session into training and held-out sessions, write listening/ into the build dir,
              turn the TRAINING sessions into session-item weights (the only thing any model
              sees), fit the co-listening model.
finish stage: the co-listening lists (evidence first, then the content fallback) and the
              evidence-weighted hybrid (models/hybrid.py: its weights, and the unplayed
              tracks' route in), through the one rank fusion in models/blend.py.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spotrec import schema

log = logging.getLogger("spotrec.build")

COLISTENING = "colistening"
HYBRID = "hybrid"
# The content list that fills a co-listening list after its evidence: cosine first, because
# it is the content model whose lists say plainly what they are (audio + genre similarity).
FALLBACK_ORDER = ("cosine", "transformer", "autoencoder")


def prepare_listening(config, tracks: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read, split and write the listening data; (training session-item weights, stats)."""
    from spotrec.data.listening import load_listening, session_item_weights, write_listening

    out: Path = config.out
    shutil.rmtree(out / schema.LISTENING_DIR, ignore_errors=True)
    result = load_listening(
        list(config.interactions),
        tracks,
        match_names=config.match_names,
        max_reject_share=config.max_listening_reject_share,
        rejects_path=out / schema.LISTENING_REJECTS_FILE,
    )
    train, _ = write_listening(out, result, heldout_share=config.heldout_share, seed=config.seed)
    weights = session_item_weights(train, half_life_days=config.half_life_days)
    stats = {
        **json.loads((out / schema.LISTENING_STATS_FILE).read_text()),
        "inputs": [str(p) for p in config.interactions],
        "half_life_days": config.half_life_days,
        "train_session_track_pairs": len(weights),
    }
    (out / schema.LISTENING_STATS_FILE).write_text(json.dumps(stats, indent=2, default=str))
    log.info(
        "listening: %d training sessions, %d held out; %d events outside the catalogue, "
        "%d matched by name, %d rows rejected",
        stats["train_sessions"],
        stats["heldout_sessions"],
        stats.get("out_of_catalogue", 0),
        stats.get("matched_by_name", 0),
        stats.get("rows_rejected", 0),
    )
    return weights, stats


def fit_colistening(tracks: pd.DataFrame, weights: pd.DataFrame, out: Path, seed: int) -> dict:
    from spotrec.models.colistening import CoListeningModel

    model = CoListeningModel().fit(tracks, seed=seed, listening=weights)
    model_dir = out / schema.MODELS_DIR / COLISTENING
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    model.save(model_dir)
    return model.summary()


def listening_lists(
    out: Path,
    models: list[str],
    content_lists: dict[str, np.ndarray],
    song_codes: np.ndarray,
    top_n: int,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"colistening": (indices, scores), "hybrid": ...} for the listening models asked for."""
    from spotrec.errors import SpotrecError
    from spotrec.models.blend import fuse_index_lists
    from spotrec.models.colistening import CoListeningModel, complete_lists
    from spotrec.models.hybrid import evidence_weights, unplayed_candidates, unplayed_share_for
    from spotrec.trend_build import apply_trends

    model_dir = out / schema.MODELS_DIR / COLISTENING
    if not (model_dir / "colistening.json").is_file():
        raise SpotrecError(f"{model_dir} is missing: run the train stage with --interactions")
    model = CoListeningModel.load(model_dir)
    evidence, _ = model.evidence_lists(song_codes, top_n)
    has_evidence, sessions_per_track = model.has_evidence, model.sessions_per_track
    del model  # its similarity matrix (~0.2 GB at 100k sessions) is not needed past this point
    result: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if COLISTENING in models:
        fallback = next(m for m in (*FALLBACK_ORDER, *content_lists) if m in content_lists)
        result[COLISTENING] = complete_lists(evidence, content_lists[fallback], song_codes, top_n)
        log.info("colistening: lists filled from %s after the listening evidence", fallback)
    if HYBRID in models:
        sessions = np.where(has_evidence, sessions_per_track, 0)
        # Unplayed tracks reach warm seeds' lists only through this input (models/hybrid.py).
        unplayed = unplayed_candidates(content_lists, has_evidence, song_codes)
        weights = evidence_weights(
            sessions,
            list(content_lists),
            unplayed_share=unplayed_share_for(top_n),
            with_unplayed=bool(unplayed),
        )
        result[HYBRID] = fuse_index_lists(
            {COLISTENING: evidence, **content_lists, **unplayed}, song_codes, top_n, weights=weights
        )
    result.update(apply_trends(out, models, result))  # trend tie-break + trending (trend_build)
    return result
