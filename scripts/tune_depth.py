"""How deep the stored lists must be when the API merges 5 seeds, per model, on held-out
listening (docs/performance.md, "Full pools").

    python scripts/tune_depth.py [--data ../shared/data/spotify_tracks.csv.gz]
        [--sessions 5000] [--max-cases 1000] [--seed 0] [--depths 50,100,200]

Protocol: tune_colistening.py's (planted synthetic sessions over the real catalogue, read back
through load_listening, split by session with 10% held out, 5 seeds per held-out session merged
by RRF as the API merges them; RecSys Challenge 2018 metrics from evaluation/listening.py).
Each model's list is computed once at the deepest depth and cut to each depth (a prefix of a
deeper list is exactly the shallower list: completion and fusion keep rank order), so the rows
differ only in how deep the merge can reach. Models: cosine (content), colistening (cosine
weighting, no discount: docs/colistening.md's choice, completed by cosine) and the hybrid
(the build's defaults). The learned content models are not trained here (minutes of training
per model at this load); their lists are as wide as cosine's, so cosine stands for content.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import time
from pathlib import Path

import numpy as np

from spotrec import schema
from spotrec.data.ingest import load_catalogue
from spotrec.evaluation.heldout_listening import synthetic_listening
from spotrec.models.blend import fuse_index_lists
from spotrec.models.colistening import CoListeningModel, complete_lists
from spotrec.models.cosine import CosineModel
from spotrec.models.hybrid import evidence_weights
from spotrec.neighbours import exact_top_n

REPO = Path(__file__).resolve().parents[1]


def _tune_colistening():
    """scripts/tune_colistening.py's helpers (scores_of, row, HEADER): one home for them."""
    spec = importlib.util.spec_from_file_location(
        "tune_colistening", REPO / "scripts/tune_colistening.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=REPO.parent / "shared/data/spotify_tracks.csv.gz"
    )
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--max-cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--depths", default="50,100,200")
    args = parser.parse_args()
    depths = sorted(int(d) for d in args.depths.split(","))
    deep = depths[-1]
    logging.basicConfig(level=logging.WARNING)
    tune = _tune_colistening()
    begin = time.perf_counter()

    tracks = load_catalogue(args.data).tracks
    world = synthetic_listening(tracks, args.sessions, seed=args.seed, max_cases=args.max_cases)
    song_codes, cases, cold_cases = world.song_codes, world.cases, world.cold_cases
    train, weights = world.train, world.weights
    print(
        f"{len(tracks):,} tracks; {train[schema.LS_SESSION_ID].nunique():,} training sessions, "
        f"{len(cases):,} held-out cases ({len(cold_cases):,} with cold targets); "
        f"{time.perf_counter() - begin:.0f} s"
    )
    cache = Path(f"/tmp/spotrec-tune-cosine-{len(tracks)}-{deep}.npy")  # as tune_colistening
    if cache.is_file():
        cosine = np.load(cache, allow_pickle=False)
    else:
        embeddings = CosineModel().fit(tracks, seed=args.seed).embed(tracks)
        cosine, _ = exact_top_n(embeddings, song_codes, deep, progress=False)
        np.save(cache, cosine, allow_pickle=False)
    seeds = world.seeds  # only the seeds' lists are scored
    model = CoListeningModel(weighting="cosine", popularity_discount=0.0)
    model.fit(tracks, listening=weights)
    evidence, _ = model.evidence_lists(song_codes, deep)
    colistening, _ = complete_lists(evidence, cosine, song_codes, deep, rows=seeds)
    sessions = np.where(model.has_evidence, model.sessions_per_track, 0)
    hybrid, _ = fuse_index_lists(
        {"colistening": evidence, "cosine": cosine},
        song_codes,
        deep,
        rows=seeds,
        weights=evidence_weights(sessions, ["cosine"]),
    )
    print(f"\n### Depth of the stored lists, 5 seeds merged\n\n{tune.HEADER}")
    for name, lists in (("cosine", cosine), ("colistening", colistening), ("hybrid", hybrid)):
        for depth in depths:
            figures = world.score(lists[:, :depth])
            print(tune.row(f"{name}, top-{depth}", figures))
    print(f"\ntotal {time.perf_counter() - begin:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
