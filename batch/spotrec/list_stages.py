"""The build's neighbours stage (FAISS top-N lists per embedding model, shardable) and finish
stage (merge shards, blend and listening lists, evaluation, manifest, SQLite store)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.ann import SearchSettings
from spotrec.build_state import embedding_models, read_state
from spotrec.errors import SpotrecError
from spotrec.manifest import describe_files, write_manifest
from spotrec.neighbour_files import SHARDS_DIR, merge_shards, read_index_matrix
from spotrec.stages import StageTimer, peak_rss_mb

log = logging.getLogger("spotrec.build")


def shard_range(n_rows: int, shard: int, num_shards: int) -> tuple[int, int]:
    """Contiguous, balanced query ranges whose union is 0..n_rows."""
    return (n_rows * shard) // num_shards, (n_rows * (shard + 1)) // num_shards


def _song_codes(tracks: pd.DataFrame) -> np.ndarray:
    return pd.factorize(tracks[schema.SONG_ID])[0].astype(np.int64)


def neighbours_stage(
    out: Path,
    models: list[str],
    top_n: int,
    shard: tuple[int, int] | None,
    timer: StageTimer,
    search: SearchSettings | None = None,
) -> None:
    """Per model: build the index, measure recall on a sample (failing below the setting before
    the long search), then stream the lists of this shard's queries to Parquet."""
    from spotrec.ann import check_recall
    from spotrec.neighbour_files import write_neighbours
    from spotrec.neighbours import NeighbourSearch

    search = search or SearchSettings()
    tracks = pd.read_parquet(out / schema.TRACKS_FILE, columns=[schema.TRACK_ID, schema.SONG_ID])
    track_ids = tracks[schema.TRACK_ID].to_numpy()
    songs = _song_codes(tracks)
    start, stop = shard_range(len(tracks), *shard) if shard else (0, len(tracks))
    target = out / schema.NEIGHBOURS_DIR / (SHARDS_DIR if shard else "")
    target.mkdir(parents=True, exist_ok=True)
    for name in embedding_models(models):
        with timer.stage(f"neighbours:{name}"):
            embeddings = np.load(out / schema.EMBEDDINGS_DIR / f"{name}.npy", allow_pickle=False)
            searcher = NeighbourSearch(embeddings, songs, top_n, settings=search)
            del embeddings  # the searcher holds its normalized copy
            filename = f"{name}.{shard[0]}-of-{shard[1]}.parquet" if shard else f"{name}.parquet"
            report = {**searcher.info, **searcher.measure_recall(start, stop)}
            report.update(shard=list(shard) if shard else None, query_range=[start, stop])
            log.info("%s: %s", name, report)
            check_recall(name, report, search)
            batches = searcher.batches(np.arange(start, stop), progress=True)
            write_neighbours(target / filename, track_ids, batches, report)
            log.info("%s: %d rows re-queried exactly", name, searcher.requeried)
            del searcher


def _write_lists(
    out: Path, name: str, track_ids: np.ndarray, indices: np.ndarray, scores: np.ndarray
) -> np.ndarray:
    from spotrec.neighbour_files import write_neighbours

    # Streamed in row chunks with Arrow strings: one pandas frame of Python string ids peaked
    # ~2 GB over the full catalogue at the listening models' depth 200 (docs/performance.md).
    chunk = 8192
    batches = (
        (
            np.arange(lo, min(lo + chunk, len(indices))),
            indices[lo : lo + chunk],
            scores[lo : lo + chunk],
        )
        for lo in range(0, len(indices), chunk)
    )
    write_neighbours(out / schema.NEIGHBOURS_DIR / f"{name}.parquet", track_ids, batches, {})
    return indices


def finish_stage(
    out: Path,
    models: list[str],
    top_n: int,
    timer: StageTimer,
    *,
    write_store: bool = True,
    listening_top_n: int | None = None,
) -> dict[str, Any]:
    from spotrec.neighbour_files import read_report
    from spotrec.selection import evaluate_models

    state = read_state(out)
    tracks = pd.read_parquet(out / schema.TRACKS_FILE)
    track_ids = tracks[schema.TRACK_ID].to_numpy()
    lists: dict[str, np.ndarray] = {}
    search: dict[str, Any] = {}  # per model: exact or approximate, recall@10 (manifest)
    with timer.stage("merge"):
        for name in embedding_models(models):
            merge_shards(out, name, len(tracks))
            path = out / schema.NEIGHBOURS_DIR / f"{name}.parquet"
            if not path.is_file():
                raise SpotrecError(f"{path} is missing: run the neighbours stage for {name}")
            search[name] = read_report(path)
            lists[name] = read_index_matrix(path, track_ids, top_n)[0]
        shutil.rmtree(out / schema.NEIGHBOURS_DIR / SHARDS_DIR, ignore_errors=True)
    content_lists = dict(lists)
    if "blend" in models:
        from spotrec.models.blend import fuse_index_lists

        with timer.stage("blend"):
            indices, scores = fuse_index_lists(content_lists, _song_codes(tracks), top_n)
            lists["blend"] = _write_lists(out, "blend", track_ids, indices, scores)
    if set(models) & set(schema.LISTENING_MODELS):
        from spotrec.listening_build import listening_lists

        with timer.stage("colistening"):
            depth = listening_top_n or top_n  # deeper than content's (schema.py says why)
            made = listening_lists(out, models, content_lists, _song_codes(tracks), depth)
            for name, (indices, scores) in made.items():
                lists[name] = _write_lists(out, name, track_ids, indices, scores)
    with timer.stage("evaluate"):
        from spotrec.data.listening import has_listening
        from spotrec.evaluation.heldout_listening import read_evaluation_listening

        # With listening data the default is the held-out listening winner (selection.py).
        listening = read_evaluation_listening(out) if has_listening(out) else None
        evaluation, default_model = evaluate_models(tracks, lists, listening=listening)
        del listening
    manifest = {
        **{k: state[k] for k in ("run_id", "created", "input", "seed", "counts", "holdout")},
        "listening": state.get("listening"),
        "models": models,
        "default_model": default_model,
        "top_n": top_n,
        "listening_top_n": listening_top_n or top_n,
        "synthetic": state.get("synthetic", False),
        "model_summaries": state["model_summaries"],
        "neighbour_search": search,
        "evaluation": evaluation,
        "files": describe_files(out),
    }
    write_manifest(out, {**manifest, "timings_s": {**state["timings_s"], **timer.seconds}})
    # The store reads the files again, one model at a time: at 1M tracks these matrices and the
    # catalogue frame are ~0.4 GB per model plus ~1 GB, held for nothing through the store stage.
    del lists, content_lists, tracks, track_ids
    if write_store:
        from spotrec.writers.sqlite import write_store as write_sqlite

        with timer.stage("store"):
            write_sqlite(out)
    timings = {**state["timings_s"], **timer.seconds}
    manifest["timings_s"] = timings
    manifest["cpu_s"] = {**state.get("cpu_s", {}), **timer.cpu}  # load-independent cost
    manifest["peak_rss_mb"] = round(peak_rss_mb(), 1)
    write_manifest(out, manifest)
    return manifest
