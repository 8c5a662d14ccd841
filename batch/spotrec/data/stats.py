"""`spotrec data stats`: summary statistics of a real catalogue, the recipe for `data synth`.

The JSON holds only aggregates (per-genre quantiles, rates, distributions, a pooled correlation
matrix): no rows, no track ids, no names. It is small enough to commit as
``batch/spotrec/data/genre_stats.json`` so the synthetic catalogue can be made anywhere.

Layout (``format`` 1):
    source        sha256, rows, tracks, genres of the file the stats came from
    copula        features, and "spearman": pooled within-genre Spearman correlation of
                  the continuous features (synth turns it into a Gaussian copula)
    quantile_levels   the levels at which every per-genre quantile list is taken
    genres        {genre: {rows, row_share, multi_genre_rate, artists, tracks_per_artist,
                  explicit_rate, features: {f: {mean, std, quantiles}},
                  categorical: {key|mode|time_signature: {value: share}},
                  partners: {other_genre: co-occurrence share}}}
    catalogue     multi_genre_rate, genres_per_track, artists_per_track, tracks_per_artist,
                  variant_track_rate, variant_group_sizes, empty_name_tracks,
                  popularity_differs_rate, top_genre_pairs
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from spotrec import schema

HELP = "compute per-genre summary statistics of a real catalogue (the recipe for `data synth`)"
DEFAULT_STATS_PATH = Path(__file__).with_name("genre_stats.json")
FORMAT = 1
# Continuous columns drawn jointly through the copula; the rest are categorical or rates.
CATEGORICAL_FEATURES = schema.INTEGER_FEATURES  # key, mode, time_signature
COPULA_FEATURES = (
    schema.POPULARITY,
    schema.DURATION_MS,
    *(f for f in schema.AUDIO_FEATURES if f not in CATEGORICAL_FEATURES),
)
QUANTILE_LEVELS = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
PARTNERS_PER_GENRE = 12
TOP_PAIRS = 40
HISTOGRAM_CAP = 20  # counts above this are pooled into one ">=20" bucket


def _round(value: float, digits: int = 4) -> float:
    """Four significant digits keeps the JSON small without hurting the synthetic draws."""
    return float(f"{value:.{digits}g}")


def _share_table(counts, cap: int = HISTOGRAM_CAP) -> dict[str, float]:
    """{value: share} of a count distribution, values above ``cap`` pooled as str(cap)."""
    clipped = counts.clip(upper=cap)
    shares = clipped.value_counts(normalize=True).sort_index()
    return {str(int(k)): _round(v) for k, v in shares.items()}


def compute_stats(path: str | os.PathLike) -> dict:
    """Read and validate ``path`` with the normal ingest, then summarize it."""
    import numpy as np
    import pandas as pd

    from spotrec.data.ingest import load_catalogue
    from spotrec.data.variants import variant_group_sizes

    result = load_catalogue(path)
    tracks = result.tracks
    # One row per (track, genre): the real file's rows after exact duplicates are merged.
    pairs = tracks.explode(schema.GENRES).rename(columns={schema.GENRES: "genre"})
    n_genres_per_track = tracks[schema.GENRES].map(len)
    pairs["multi"] = n_genres_per_track.loc[pairs.index].to_numpy() > 1
    artist_rows = tracks[[schema.TRACK_ID, schema.ARTISTS]].explode(schema.ARTISTS).dropna()
    tracks_per_artist = artist_rows.groupby(schema.ARTISTS).size()

    genres: dict[str, dict] = {}
    spearman_sum = np.zeros((len(COPULA_FEATURES),) * 2)
    pair_counts: dict[tuple[str, str], int] = {}
    for genre_list in tracks[schema.GENRES]:
        for i, a in enumerate(genre_list):
            for b in genre_list[i + 1 :]:
                pair_counts[(a, b)] = pair_counts.get((a, b), 0) + 1
    for genre, rows in pairs.groupby("genre", sort=True):
        features = {}
        for column in COPULA_FEATURES:
            values = rows[column].astype(float)
            quantiles = np.quantile(values, QUANTILE_LEVELS)
            features[column] = {
                "mean": _round(values.mean()),
                "std": _round(values.std(ddof=0)),
                "quantiles": [_round(q) for q in quantiles],
            }
        spearman_sum += rows[list(COPULA_FEATURES)].rank().corr().fillna(0).to_numpy()
        genre_artists = rows[[schema.ARTISTS]].explode(schema.ARTISTS).dropna()[schema.ARTISTS]
        partners = {
            (b if a == genre else a): n for (a, b), n in pair_counts.items() if genre in (a, b)
        }
        top = sorted(partners.items(), key=lambda kv: (-kv[1], kv[0]))[:PARTNERS_PER_GENRE]
        total = sum(n for _, n in top) or 1
        genres[str(genre)] = {
            "rows": len(rows),
            "row_share": _round(len(rows) / len(pairs)),
            "multi_genre_rate": _round(rows["multi"].mean()),
            "artists": int(genre_artists.nunique()),
            "tracks_per_artist": _round(len(rows) / max(genre_artists.nunique(), 1)),
            "explicit_rate": _round(rows[schema.EXPLICIT].mean()),
            "features": features,
            "categorical": {
                c: {
                    str(int(k)): _round(v)
                    for k, v in rows[c].value_counts(normalize=True).sort_index().items()
                }
                for c in CATEGORICAL_FEATURES
            },
            "partners": {g: _round(n / total) for g, n in top},
        }
    spearman = spearman_sum / len(genres)
    group_sizes = pd.Series(variant_group_sizes(tracks[schema.SONG_ID]))
    song_sizes = tracks.groupby(schema.SONG_ID).size()
    top_pairs = sorted(pair_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_PAIRS]
    return {
        "format": FORMAT,
        "source": {
            "sha256": result.sha256,
            "rows": result.counts["rows_read"],
            "tracks": result.counts["tracks"],
            "genres": len(genres),
        },
        "quantile_levels": list(QUANTILE_LEVELS),
        "copula": {
            "features": list(COPULA_FEATURES),
            "spearman": [[_round(v, 3) for v in row] for row in spearman],
        },
        "genres": genres,
        "catalogue": {
            "multi_genre_rate": _round((n_genres_per_track > 1).mean()),
            "genres_per_track": _share_table(n_genres_per_track),
            "artists_per_track": _share_table(tracks[schema.ARTISTS].map(len)),
            "tracks_per_artist": _share_table(tracks_per_artist),
            "variant_track_rate": _round((group_sizes > 1).mean()),
            "variant_group_sizes": _share_table(song_sizes[song_sizes > 1]),
            "empty_name_tracks": int((tracks[schema.NAME].str.strip() == "").sum()),
            "popularity_differs_rate": _round(_popularity_differs_rate(path, tracks)),
            "top_genre_pairs": [[a, b, n] for (a, b), n in top_pairs],
        },
    }


def _popularity_differs_rate(path, tracks) -> float:
    """Share of multi-row tracks whose popularity differs between their rows."""
    import pandas as pd

    raw = pd.read_csv(path, usecols=["track_id", "popularity"], dtype={"popularity": "float"})
    per_track = raw.groupby("track_id")["popularity"].agg(["nunique", "size"])
    multi = per_track[per_track["size"] > 1]
    return float((multi["nunique"] > 1).mean()) if len(multi) else 0.0


def _compact_json(stats: dict) -> str:
    """One top-level key, and one genre, per line: small, yet diffs stay readable."""

    def dump(value) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    lines = []
    for key, value in stats.items():
        if key == "genres":
            body = ",\n".join(f" {dump(g)}:{dump(v)}" for g, v in value.items())
            lines.append(f'"genres":{{\n{body}\n}}')
        else:
            lines.append(f"{dump(key)}:{dump(value)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def write_stats(stats: dict, out: str | os.PathLike) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(_compact_json(stats), encoding="utf-8")
    os.replace(tmp, out)
    return out


def load_stats(path: str | os.PathLike | None = None) -> dict:
    """The committed genre statistics (or another stats file)."""
    from spotrec.errors import SpotrecError

    path = Path(path) if path else DEFAULT_STATS_PATH
    try:
        stats = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpotrecError(f"cannot read genre statistics {path}: {exc}") from exc
    if stats.get("format") != FORMAT:
        raise SpotrecError(f"{path}: unsupported stats format {stats.get('format')!r}")
    return stats


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        default=os.environ.get("SPOTREC_DATA"),
        help="the real Spotify Tracks CSV, plain or .gz (default: $SPOTREC_DATA)",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_STATS_PATH),
        help="where to write the JSON (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    from spotrec.errors import SpotrecError

    if not args.data:
        raise SpotrecError("no input: pass --data PATH (or set SPOTREC_DATA)")
    out = write_stats(compute_stats(args.data), args.out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return 0
