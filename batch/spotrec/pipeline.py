"""The three build stages behind `spotrec build` (see build.py for the overview)."""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from spotrec import schema
from spotrec.ann import SearchSettings
from spotrec.build import SHARDS_DIR, STATE_FILE, shard_range
from spotrec.errors import SpotrecError
from spotrec.manifest import describe_files, new_run_id, write_manifest
from spotrec.stages import StageTimer, peak_rss_mb

log = logging.getLogger("spotrec.build")


def embedding_models(models: list[str]) -> list[str]:
    return [m for m in models if m != "blend"]


def _read_state(out: Path) -> dict[str, Any]:
    path = out / STATE_FILE
    if not path.is_file():
        raise SpotrecError(f"{out} has no {STATE_FILE}: run `spotrec build --stage train` first")
    return json.loads(path.read_text())


def _write_state(out: Path, state: dict[str, Any]) -> None:
    (out / STATE_FILE).write_text(json.dumps(state, indent=2, default=str))


def _make_model(name: str, seed: int, epochs: int | None):
    from spotrec.models.registry import get_model_class

    cls = get_model_class(name)
    params = inspect.signature(cls).parameters
    kwargs: dict[str, Any] = {}
    if "seed" in params:
        kwargs["seed"] = seed
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    if epochs is not None and ("epochs" in params or takes_any):
        kwargs["epochs"] = epochs
    return cls(**kwargs)


def train_stage(args: argparse.Namespace, models: list[str], out: Path, timer: StageTimer) -> None:
    from spotrec.data.ingest import load_catalogue
    from spotrec.holdout import apply_holdout, read_holdout_artists

    out.mkdir(parents=True, exist_ok=True)
    # A rebuild must not leave another run's neighbours or shards behind.
    shutil.rmtree(out / schema.NEIGHBOURS_DIR, ignore_errors=True)
    with timer.stage("ingest"):
        rejects_path = out / schema.REJECTS_FILE
        rejects_path.unlink(missing_ok=True)
        # The rejects file is written even when the share is exceeded, so the user can see why.
        result = load_catalogue(
            args.data, max_reject_share=args.max_reject_share, rejects_path=rejects_path
        )
        if not len(result.rejects):
            rejects_path.unlink(missing_ok=True)
        tracks = result.tracks
        holdout_info = None
        if args.holdout_artists:
            held = apply_holdout(tracks, read_holdout_artists(args.holdout_artists))
            holdout_info = {
                "file": str(args.holdout_artists),
                "artists_listed": held.artists_listed,
                "artists_matched": held.artists_matched,
                "artists_not_found": len(held.artists_not_found),
                "tracks_held_out": held.tracks_held_out,
            }
        tracks.to_parquet(out / schema.TRACKS_FILE, index=False)
    counts = {**result.counts, "holdout_tracks": int(tracks[schema.HOLDOUT].sum())}
    summaries: dict[str, Any] = {}
    for name in embedding_models(models):
        with timer.stage(f"fit:{name}"):
            model = _make_model(name, args.seed, args.epochs).fit(tracks, seed=args.seed)
            embeddings = np.ascontiguousarray(model.embed(tracks), dtype=np.float32)
            if embeddings.shape[0] != len(tracks) or not np.isfinite(embeddings).all():
                raise SpotrecError(f"model {name} produced invalid embeddings {embeddings.shape}")
            model_dir = out / schema.MODELS_DIR / name
            shutil.rmtree(model_dir, ignore_errors=True)
            model_dir.mkdir(parents=True)
            model.save(model_dir)
            (out / schema.EMBEDDINGS_DIR).mkdir(exist_ok=True)
            np.save(out / schema.EMBEDDINGS_DIR / f"{name}.npy", embeddings, allow_pickle=False)
            summaries[name] = model.summary()
    sha = result.sha256
    _write_state(
        out,
        {
            "run_id": new_run_id(sha),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "input": {
                "path": str(args.data),
                "sha256": sha,
                "bytes": Path(args.data).stat().st_size,
            },
            "seed": args.seed,
            "counts": counts,
            "holdout": holdout_info,
            "model_summaries": summaries,
            "timings_s": dict(timer.seconds),
        },
    )


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


def merge_shards(out: Path, name: str, n_tracks: int) -> None:
    """Concatenate a model's shard files into neighbours/<model>.parquet, checking coverage."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    shard_dir = out / schema.NEIGHBOURS_DIR / SHARDS_DIR
    parts = sorted(shard_dir.glob(f"{name}.*-of-*.parquet"))
    if not parts:
        return  # built unsharded
    counts = {int(p.name.rsplit("-of-", 1)[1].split(".")[0]) for p in parts}
    if len(counts) != 1 or len(parts) != counts.pop():
        raise SpotrecError(
            f"{name}: incomplete shard set in {shard_dir}: {[p.name for p in parts]}"
        )
    # Shard i holds queries i*n/N..(i+1)*n/N: in index order, the concatenation is in row order.
    parts.sort(key=lambda p: int(p.name.split(".")[1].split("-of-")[0]))
    from spotrec.neighbour_files import merge_reports, read_report, with_report

    report = merge_reports([read_report(p) for p in parts])
    table = pa.concat_tables([pq.read_table(p) for p in parts])
    table = with_report(table, report)
    covered = pc.count_distinct(table[schema.NB_TRACK_ID]).as_py()
    if covered != n_tracks:
        raise SpotrecError(f"{name}: shards cover {covered} tracks, not {n_tracks}")
    pq.write_table(table, out / schema.NEIGHBOURS_DIR / f"{name}.parquet")
    for part in parts:
        part.unlink()


def read_index_matrix(
    path: Path, track_ids: np.ndarray, top_n: int
) -> tuple[np.ndarray, np.ndarray]:
    """A neighbours parquet as (n, top_n) catalogue-row indices (-1 = empty) and scores.

    Integer matrices instead of a DataFrame of string ids: 4.5 M rows of Python strings per
    model cost ~1 GB each, and the blend and evaluation only need rows.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    catalogue = pa.array(track_ids)
    seed = pc.index_in(table[schema.NB_TRACK_ID], value_set=catalogue)
    neighbour = pc.index_in(table[schema.NB_NEIGHBOUR_ID], value_set=catalogue)
    if seed.null_count or neighbour.null_count:
        raise SpotrecError(f"{path} names tracks that are not in tracks.parquet")
    rank = table[schema.NB_RANK].to_numpy()
    if len(rank) and (rank.min() < 1 or rank.max() > top_n):
        raise SpotrecError(f"{path} has ranks outside 1..{top_n}")
    indices = np.full((len(track_ids), top_n), -1, dtype=np.int64)
    scores = np.full((len(track_ids), top_n), -np.inf, dtype=np.float32)
    seed_rows = seed.to_numpy()
    indices[seed_rows, rank - 1] = neighbour.to_numpy()
    scores[seed_rows, rank - 1] = table[schema.NB_SCORE].to_numpy()
    return indices, scores


def finish_stage(
    out: Path, models: list[str], top_n: int, timer: StageTimer, *, write_store: bool = True
) -> dict[str, Any]:
    from spotrec.neighbour_files import read_report
    from spotrec.selection import evaluate_models

    state = _read_state(out)
    tracks = pd.read_parquet(out / schema.TRACKS_FILE)
    track_ids = tracks[schema.TRACK_ID].to_numpy()
    lists: dict[str, np.ndarray] = {}
    search: dict[str, Any] = {}
    with timer.stage("merge"):
        for name in embedding_models(models):
            merge_shards(out, name, len(tracks))
            path = out / schema.NEIGHBOURS_DIR / f"{name}.parquet"
            if not path.is_file():
                raise SpotrecError(f"{path} is missing: run the neighbours stage for {name}")
            search[name] = read_report(path)
            lists[name] = read_index_matrix(path, track_ids, top_n)[0]
        shutil.rmtree(out / schema.NEIGHBOURS_DIR / SHARDS_DIR, ignore_errors=True)
    if "blend" in models:
        from spotrec.models.blend import fuse_index_lists
        from spotrec.neighbours import to_frame

        with timer.stage("blend"):
            indices, scores = fuse_index_lists(lists, _song_codes(tracks), top_n)
            blend = to_frame(track_ids, indices, scores)
            blend.to_parquet(out / schema.NEIGHBOURS_DIR / "blend.parquet", index=False)
            lists["blend"] = indices
            del blend
    with timer.stage("evaluate"):
        evaluation, default_model = evaluate_models(tracks, lists)
    manifest = {
        **{k: state[k] for k in ("run_id", "created", "input", "seed", "counts", "holdout")},
        "models": models,
        "default_model": default_model,
        "top_n": top_n,
        "model_summaries": state["model_summaries"],
        "neighbour_search": search,
        "evaluation": evaluation,
        "files": describe_files(out),
    }
    write_manifest(out, {**manifest, "timings_s": {**state["timings_s"], **timer.seconds}})
    if write_store:
        from spotrec.writers.sqlite import write_store as write_sqlite

        with timer.stage("store"):
            write_sqlite(out)
    timings = {**state["timings_s"], **timer.seconds}
    manifest["timings_s"] = timings
    manifest["peak_rss_mb"] = round(peak_rss_mb(), 1)
    write_manifest(out, manifest)
    return manifest
