"""Cold-start holdout: tracks by listed artists have their genres hidden from every model.

`spotrec data holdout --data CSV --out FILE --fraction 0.1` samples artists reproducibly;
`spotrec build --holdout-artists FILE` applies the list. Matching is on the artist identity key
(spotrec_serving.names.identity_key).

Whole collaboration components, so that no hidden genre leaks back: artists are linked when
they share a track, and a listed artist brings its whole component (every artist reachable
through shared tracks). Then a held-out track's artists appear on held-out tracks only, so
nothing computed per artist from labelled tracks (the cosine model's artist mean profile, the
learned models' artist inputs) can carry a held-out track's genres into its embedding. Holding
out artists one by one leaked: about 30% of held-out tracks had a labelled co-artist of their
own genre (issue 7). ``sample_holdout_artists`` samples whole components, skipping any larger
than the budget (the real catalogue has one big connected cluster of collaborating artists),
so the held-out share stays near ``fraction`` of artists.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spotrec import schema
from spotrec_serving.names import identity_key

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

log = logging.getLogger("spotrec.holdout")

HELP = "sample a reproducible share of artists to hold out (cold-start evaluation)"


def read_holdout_artists(path: Path) -> list[str]:
    """Artist names, one per line; blank lines and lines starting with '#' are skipped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


@dataclass(frozen=True)
class HoldoutResult:
    artists_listed: int
    artists_matched: int
    artists_not_found: list[str]
    tracks_held_out: int
    artists_added_by_collaboration: int = 0  # co-artists pulled in with their components


def collaboration_components(tracks: pd.DataFrame) -> tuple[list[str], np.ndarray, list]:
    """(artist identity keys, component id per artist, each track's artist codes): artists are
    linked when they share a track (scipy connected components of the co-artist graph)."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    codes: dict[str, int] = {}
    track_codes = [
        sorted({codes.setdefault(k, len(codes)) for a in artists if (k := identity_key(a))})
        for artists in tracks[schema.ARTISTS]
    ]
    # link every track's artists to its first artist: enough for connectivity
    pairs = [(c[0], other) for c in track_codes for other in c[1:]]
    n = len(codes)
    rows = np.asarray([p[0] for p in pairs], dtype=np.int64)
    cols = np.asarray([p[1] for p in pairs], dtype=np.int64)
    graph = coo_matrix((np.ones(len(pairs)), (rows, cols)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    return list(codes), component, track_codes


def apply_holdout(tracks: pd.DataFrame, artists: list[str]) -> HoldoutResult:
    """Set tracks[HOLDOUT] in place for the listed artists' whole collaboration components;
    unknown names are reported, not silently ignored."""
    import numpy as np

    wanted = {identity_key(a) for a in artists}
    keys, component, track_codes = collaboration_components(tracks)
    seen = wanted & set(keys)
    listed = np.asarray([k in wanted for k in keys], dtype=bool)
    held_components = np.unique(component[listed])
    held_artists = np.isin(component, held_components)
    tracks[schema.HOLDOUT] = np.asarray(
        [bool(c) and bool(held_artists[c[0]]) for c in track_codes], dtype=bool
    )
    not_found = sorted(wanted - seen)
    added = int(held_artists.sum() - listed.sum())
    result = HoldoutResult(
        len(wanted), len(seen), not_found, int(tracks[schema.HOLDOUT].sum()), added
    )
    if added:
        log.info("holdout: %d co-artists held out with their collaboration components", added)
    if not_found:
        log.warning(
            "holdout: %d of %d listed artists are not in the catalogue (e.g. %s)",
            len(not_found),
            len(wanted),
            ", ".join(not_found[:3]),
        )
    log.info("holdout: %d tracks by %d artists held out", result.tracks_held_out, len(seen))
    return result


def sample_holdout_artists(tracks: pd.DataFrame, fraction: float, seed: int = 0) -> list[str]:
    """About ``fraction`` of the catalogue's artists, as whole collaboration components drawn in
    a seeded random order (a component that would overshoot the budget is skipped). Returns
    each picked artist's name as first spelled in the catalogue."""
    import numpy as np

    keys, component, _ = collaboration_components(tracks)
    spelling: dict[str, str] = {}
    for artists in tracks[schema.ARTISTS]:
        for name in artists:
            spelling.setdefault(identity_key(name), name.strip())
    budget = max(1, round(fraction * len(keys)))
    sizes = np.bincount(component)
    picked, total = [], 0
    for label in np.random.default_rng(seed).permutation(len(sizes)):
        if total + sizes[label] <= budget:
            picked.append(label)
            total += int(sizes[label])
        if total >= budget:
            break
    chosen = np.isin(component, picked)
    return sorted(spelling[k] for k, keep in zip(keys, chosen, strict=True) if keep)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="catalogue CSV (plain or .gz)")
    parser.add_argument("--out", type=Path, required=True, help="artist list to write")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of artists (0..1)")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> int:
    from spotrec.data.ingest import load_catalogue
    from spotrec.errors import SpotrecError

    if not 0 < args.fraction < 1:
        raise SpotrecError(f"--fraction must be between 0 and 1, got {args.fraction}")
    tracks = load_catalogue(args.data).tracks
    artists = sample_holdout_artists(tracks, args.fraction, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(artists) + "\n", encoding="utf-8")
    print(f"wrote {len(artists)} artists to {args.out}")
    return 0
