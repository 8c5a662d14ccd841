"""Choose the blend's weights by evaluation: fuse a build's per-model lists under a grid of
weights, score each fusion with the same metrics as the report, print the table.

    python scripts/tune_blend.py --build DIR [--out sweep.csv]

The grid weighs cosine against the two learned models. Its output (model, setting, metrics)
feeds `spotrec eval --sweep sweep.csv`, which plots it on the precision/coverage trade-off.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import pandas as pd

from spotrec import schema
from spotrec.evaluation.metrics import Catalogue, NeighbourLists, evaluate
from spotrec.models.blend import fuse_index_lists
from spotrec.neighbour_files import read_index_matrix
from spotrec.pipeline import _song_codes
from spotrec.selection import bar_results

GRID = (0.0, 0.5, 1.0, 2.0)
COLUMNS = (
    "genre_precision",
    "mrr",
    "same_artist",
    "coverage",
    "hubness_skew",
    "intra_list_diversity",
    "variant_rate",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, required=True)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    tracks = pd.read_parquet(args.build / schema.TRACKS_FILE)
    ids = tracks[schema.TRACK_ID].to_numpy()
    songs = _song_codes(tracks)
    models = ("cosine", "autoencoder", "transformer")
    lists = {
        m: read_index_matrix(args.build / schema.NEIGHBOURS_DIR / f"{m}.parquet", ids, 50)[0]
        for m in models
    }
    catalogue = Catalogue.from_tracks(tracks)
    rows = []
    for weights in itertools.product(GRID, repeat=3):
        if sum(w > 0 for w in weights) < 2 or (max(weights) != 1.0 and 2.0 not in weights):
            continue  # single models are the report's rows; skip scalings of one another
        chosen = dict(zip(models, weights, strict=True))
        indices, _ = fuse_index_lists(lists, songs, 50, weights=chosen)
        metrics = evaluate(catalogue, NeighbourLists.from_indices(indices))
        setting = " ".join(f"{m[:3]}={w:g}" for m, w in chosen.items())
        passes = all(bar_results(metrics).values())
        rows.append(
            {
                "model": "blend",
                "setting": setting,
                "passes_bars": passes,
                **{c: round(metrics[c], 4) for c in COLUMNS},
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    if args.out:
        table.to_csv(args.out, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
