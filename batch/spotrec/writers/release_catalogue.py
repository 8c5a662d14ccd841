"""A build directory's catalogue and neighbour lists as the release writer reads them.

Pandas is not used, and pyarrow/numpy are imported inside the functions, so the modules that
import this one (writers/items.py, writers/sqlite.py) stay importable without the batch extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from spotrec import schema
from spotrec.errors import SpotrecError
from spotrec.manifest import read_manifest


@dataclass
class ReleaseCatalogue:
    """tracks.parquet as plain Python lists, in file order."""

    ids: list[str]
    summaries: list[list[Any]]  # TrackSummary.encode() form; shared, never mutated
    popularity: list[int]
    genres: list[list[str]]  # visible genres ([] for holdout tracks)
    song_ids: list[str]
    features: list[dict[str, Any]]  # the 12 audio features (T# items, exact)
    # popularity_order, computed once: the artists, genre lists and search index each ask
    # (~2 s a sort at 1M tracks); not copied by dataclasses.replace (release_order.py)
    _popularity_order: list[int] | None = dataclass_field(default=None, init=False, repr=False)

    def song_keys(self) -> list[int]:
        """song_id -> a dense int, in first-appearance order (the song key of packed items)."""
        keys: dict[str, int] = {}
        return [keys.setdefault(song, len(keys)) for song in self.song_ids]

    def tunable_rows(self) -> list[dict[str, Any]]:
        """The 14 tunable attributes per track (items.FEATURES): audio + duration, popularity."""
        return [
            {**self.features[i], "duration_ms": s[4], "popularity": s[6]}
            for i, s in enumerate(self.summaries)
        ]

    def popularity_order(self) -> list[int]:
        """Track indices, most popular first, ties by track id (the order of every list)."""
        if self._popularity_order is None:
            import numpy as np

            # by id (Python's string order), then a stable sort by popularity: the same order
            # as one sort on (-popularity, id), without a key tuple per track
            by_id = np.fromiter(
                sorted(range(len(self.ids)), key=self.ids.__getitem__), np.int64, len(self.ids)
            )
            popularity = np.asarray(self.popularity, dtype=np.int64)[by_id]
            by_popularity = np.argsort(-popularity, kind="stable")
            self._popularity_order = by_id[by_popularity].tolist()
        return list(self._popularity_order)  # a copy: callers may keep or change theirs

    def genre_members(self) -> dict[str, list[int]]:
        """genre -> its tracks' indices, most popular first, ties by track id."""
        members: dict[str, list[int]] = {}
        for i in self.popularity_order():
            for genre in self.genres[i]:
                members.setdefault(genre, []).append(i)
        return members


def read_release_manifest(build_dir: Path) -> dict[str, Any]:
    """The build's manifest (named SpotrecError when missing or broken), checked for what a
    release needs."""
    manifest = read_manifest(build_dir)
    for field in ("run_id", "models"):
        if not manifest.get(field):
            raise SpotrecError(f"{build_dir}/{schema.MANIFEST_FILE} has no {field!r}")
    return manifest


def load_release_catalogue(build_dir: Path) -> ReleaseCatalogue:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(Path(build_dir) / schema.TRACKS_FILE)
    col = {name: table.column(name).to_pylist() for name in table.column_names}
    holdout = col.get(schema.HOLDOUT) or [False] * table.num_rows
    pairs = zip(col[schema.GENRES], holdout, strict=True)
    genres = [[] if hidden else sorted(g or []) for g, hidden in pairs]
    summaries = [
        [
            track_id,
            name or "",
            list(artists or []),
            album or "",
            int(duration or 0),
            bool(explicit),
            int(popularity or 0),
            visible,
            song_id,
        ]
        for track_id, name, artists, album, duration, explicit, popularity, visible, song_id in zip(
            col[schema.TRACK_ID],
            col[schema.NAME],
            col[schema.ARTISTS],
            col[schema.ALBUM],
            col[schema.DURATION_MS],
            col[schema.EXPLICIT],
            col[schema.POPULARITY],
            genres,
            col[schema.SONG_ID],
            strict=True,
        )
    ]
    # One dict per track, built by zipping whole columns (converted only when Parquet's type
    # is not already the JSON one): at 1M tracks the per-cell int()/float() and indexing cost
    # several CPU s (docs/performance.md, "Session 4: search and store speed").
    feature_columns = []
    for name in schema.AUDIO_FEATURES:
        is_int = name in schema.INTEGER_FEATURES
        arrow_type = table.schema.field(name).type
        native = pa.types.is_integer(arrow_type) if is_int else pa.types.is_floating(arrow_type)
        values = col[name]
        feature_columns.append(
            values if native else [int(v) if is_int else float(v) for v in values]
        )
    names = schema.AUDIO_FEATURES
    features = [dict(zip(names, row, strict=True)) for row in zip(*feature_columns, strict=True)]
    return ReleaseCatalogue(
        ids=col[schema.TRACK_ID],
        summaries=summaries,
        popularity=[s[6] for s in summaries],
        genres=genres,
        song_ids=col[schema.SONG_ID],
        features=features,
    )


class NeighbourTable:
    """One model's neighbours as index arrays grouped by seed, rank order within each group.

    Read through neighbour_files.read_index_matrix, a batch of rows at a time: reading the
    whole file's two string columns at once cost ~2.6 GB at 1M tracks x 50 (docs/scale.md)."""

    def __init__(self, path: Path, catalogue: ReleaseCatalogue, top_n: int | None = None):
        import numpy as np
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        from spotrec.neighbour_files import read_index_matrix

        if top_n is None:
            top_n = pc.max(pq.read_table(path, columns=[schema.NB_RANK])[schema.NB_RANK]).as_py()
        try:
            indices, scores = read_index_matrix(path, catalogue.ids, max(top_n or 0, 1))
        except SpotrecError as error:
            raise ValueError(str(error)) from error
        filled = indices >= 0  # each row's filled slots come first (ranks 1..k)
        # One copy alive at a time, int32 indexes, rounding in place: at 1M tracks x 50 the
        # copies of the whole matrices set the store stage's peak (~2 GB over its baseline).
        self.neighbour_idx = indices[filled].astype(np.int32)
        del indices
        self.scores = scores[filled].astype(np.float64)
        del scores
        np.round(self.scores, 6, out=self.scores)
        self.starts = np.concatenate([[0], np.cumsum(filled.sum(axis=1))])
        self.in_degree = np.bincount(self.neighbour_idx, minlength=len(catalogue.ids))

    def neighbours_of(self, i: int) -> tuple[list[int], list[float]]:
        lo, hi = self.starts[i], self.starts[i + 1]
        return self.neighbour_idx[lo:hi].tolist(), self.scores[lo:hi].tolist()

    def pairs(self, depth: int):
        """(seed indexes, neighbour indexes, 1-based ranks) of every entry ranked <= depth, as
        numpy arrays (the related-artists product, writers/artists.py). int32 where they fit,
        and no filtered copies when every list is within ``depth``: at 1M tracks x 50 the
        int64 arrays and their copies were ~2 GB of the store stage's peak."""
        import numpy as np

        lengths = np.diff(self.starts)
        kind = np.int32 if len(self.neighbour_idx) < np.iinfo(np.int32).max else np.int64
        seed_idx = np.repeat(np.arange(len(lengths), dtype=kind), lengths)
        ranks = np.arange(1, len(seed_idx) + 1, dtype=kind)
        ranks -= np.repeat(self.starts[:-1].astype(kind), lengths)
        if not len(lengths) or lengths.max() <= depth:
            return seed_idx, self.neighbour_idx, ranks
        keep = ranks <= depth
        return seed_idx[keep], self.neighbour_idx[keep], ranks[keep]
