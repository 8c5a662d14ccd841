"""Cold-start holdout: tracks by listed artists have their genres hidden from every model.

`spotrec data holdout --data CSV --out FILE --fraction 0.1` samples artists reproducibly;
`spotrec build --holdout-artists FILE` applies the list. Matching is on the artist name after
case folding and whitespace trimming, and a track is held out when ANY of its artists is listed.
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


def apply_holdout(tracks: pd.DataFrame, artists: list[str]) -> HoldoutResult:
    """Set tracks[HOLDOUT] in place; unknown names are reported, not silently ignored."""
    wanted = {identity_key(a) for a in artists}
    seen: set[str] = set()

    def is_held_out(track_artists) -> bool:
        folded = {identity_key(a) for a in track_artists}
        hits = folded & wanted
        seen.update(hits)
        return bool(hits)

    tracks[schema.HOLDOUT] = tracks[schema.ARTISTS].map(is_held_out).astype(bool)
    not_found = sorted(wanted - seen)
    result = HoldoutResult(len(wanted), len(seen), not_found, int(tracks[schema.HOLDOUT].sum()))
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
    """A reproducible random `fraction` of the catalogue's distinct (non-empty) artist names."""
    import numpy as np

    names = sorted({a for artists in tracks[schema.ARTISTS] for a in artists if a.strip()})
    rng = np.random.default_rng(seed)
    count = max(1, round(fraction * len(names)))
    picked = rng.choice(len(names), size=count, replace=False)
    return sorted(names[i] for i in picked)


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
