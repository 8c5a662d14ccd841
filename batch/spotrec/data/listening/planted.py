"""Planted listening: synthetic sessions whose structure content alone cannot explain.

data/synth_listening.py writes them (events log, MPD slices, ground truth); this module draws
them. All draws come from one seeded ``numpy.random.Generator``:

* only part of the catalogue is ever played: a random PLAYED_SHARE of artists, one track per
  song (variants are one song);
* a taste is a set of genres (GENRES_PER_TASTE, chosen at random), and each played artist joins
  one taste that has the artist's genre, so a taste mixes artists from several genres and its
  tracks do not sound alike; an artist puts at most MAX_ARTIST_SONGS songs in a taste (the
  rest go to other tastes) and SPLIT_ARTIST_SHARE of smaller artists split in two, so an artist
  does not explain a taste either;
* popularity is skewed twice: tastes by a Zipf law, tracks within a taste by a Zipf law over
  their catalogue popularity rank;
* a session picks one taste; its length is log-normal with median 55 (about 50 kept) within
  MPD's 5..250; about NOISE_SHARE of its tracks are popular tracks from anywhere, mostly skipped;
* RARE_SHARE of played tracks are heard in one session only (cold targets when it is held out);
* events: every kept track is played; some are liked, saved or played again; a few taste
  tracks are skipped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from spotrec import schema

# 55 drawn = about 50 kept in the MPD playlists, once skipped tracks are left out.
MEDIAN_LENGTH, LENGTH_SIGMA, MIN_LENGTH, MAX_LENGTH = 55, 0.8, 5, 250
PLAYED_SHARE = 0.6
GENRES_PER_TASTE = 4
TRACKS_PER_TASTE = 150  # about 3 sessions of songs: tastes overlap little, sessions much
SPLIT_ARTIST_SHARE = 0.3
MAX_ARTIST_SONGS = 5  # songs of one artist in one taste, at most
NOISE_SHARE = 0.15
RARE_SHARE = 0.2  # played tracks heard in one session only: cold targets once held out
NOISE_SKIP, TASTE_SKIP, LIKE, SAVE, REPLAY = 0.6, 0.03, 0.12, 0.05, 0.1
END = pd.Timestamp("2024-06-30T00:00:00Z")
_DAY_S = 86_400


def _zipf_weights(count: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1) ** exponent
    return weights / weights.sum()


def plant_tastes(tracks: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """(taste of each catalogue row, -1 = never played; the genres of each taste)."""
    rows = rng.permutation(len(tracks))
    # One random track per song: the first of each song in the shuffled order (a hash
    # table's duplicated(); np.unique sorted 1M strings for the same set, 6 CPU s at 1M).
    first = ~tracks[schema.SONG_ID].iloc[rows].duplicated().to_numpy()
    artists = tracks[schema.ARTISTS].to_numpy(dtype=object)
    genres = tracks[schema.GENRES].to_numpy(dtype=object)
    candidates = [r for r in np.sort(rows[first]) if len(artists[r]) and len(genres[r])]
    by_artist: dict[str, list[int]] = {}
    for row in candidates:  # catalogue order: an artist's genre is that of its first track
        by_artist.setdefault(artists[row][0], []).append(int(row))
    names = sorted(by_artist)
    played = [
        a for a, keep in zip(names, rng.random(len(names)) < PLAYED_SHARE, strict=True) if keep
    ]
    artist_genre = {a: genres[by_artist[a][0]][0] for a in played}
    genre_names = sorted(set(artist_genre.values()))
    n_songs = sum(len(by_artist[a]) for a in played)
    n_tastes = max(8, round(n_songs / TRACKS_PER_TASTE))
    per_taste = min(GENRES_PER_TASTE, len(genre_names))
    taste_genres = [
        sorted(rng.choice(genre_names, size=per_taste, replace=False)) for _ in range(n_tastes)
    ]
    tastes_of_genre: dict[str, list[int]] = {g: [] for g in genre_names}
    for taste, chosen in enumerate(taste_genres):
        for genre in chosen:
            tastes_of_genre[genre].append(taste)
    for genre, owners in tastes_of_genre.items():  # every played genre belongs to some taste
        if not owners:
            taste = int(rng.integers(n_tastes))
            taste_genres[taste].append(genre)
            owners.append(taste)
    taste_of_row = np.full(len(tracks), -1, dtype=np.int32)
    for artist in played:
        owners = tastes_of_genre[artist_genre[artist]]
        taste = owners[rng.integers(len(owners))]
        artist_rows = rng.permutation(by_artist[artist])
        size = len(artist_rows)
        # A prolific artist's songs are spread over several tastes, MAX_ARTIST_SONGS per taste,
        # so "the seed's artist" does not explain a session (real catalogues have artists
        # with hundreds of tracks); some smaller artists split in two as well.
        split = size > MAX_ARTIST_SONGS or (size >= 2 and rng.random() < SPLIT_ARTIST_SHARE)
        chunk = min(MAX_ARTIST_SONGS, -(-size // 2)) if split else size
        for start in range(0, size, chunk):
            target = taste
            if start:  # any taste but the artist's first
                target = int(rng.integers(n_tastes - 1))
                target += target >= taste
            taste_of_row[artist_rows[start : start + chunk]] = target
    return taste_of_row, [[str(g) for g in sorted(set(t))] for t in taste_genres]


def _popularity_order(rows: np.ndarray, popularity: np.ndarray, rng) -> np.ndarray:
    """rows sorted by popularity, most popular first, ties in random order."""
    return rows[np.lexsort((rng.random(len(rows)), -popularity[rows]))]


def generate_sessions(tracks: pd.DataFrame, n_sessions: int, seed: int = 0) -> dict:
    """The planted sessions: flat arrays session (int), row (catalogue row), in_taste (bool),
    plus session_taste, taste_of_row and taste_genres."""
    rng = np.random.default_rng(seed)
    taste_of_row, taste_genres = plant_tastes(tracks, rng)
    popularity = tracks[schema.POPULARITY].to_numpy(dtype=np.float64)
    n_tastes = len(taste_genres)
    # Rows grouped by taste in one stable sort (ascending rows within a taste, as a scan per
    # taste gives them): scanning the catalogue once per taste was quadratic at 1M tracks.
    by_taste = np.argsort(taste_of_row, kind="stable")
    bounds = np.searchsorted(taste_of_row[by_taste], np.arange(n_tastes + 1))
    members = [
        _popularity_order(by_taste[bounds[t] : bounds[t + 1]], popularity, rng)
        for t in range(n_tastes)
    ]
    member_logw = [np.log(_zipf_weights(len(m), 1.0)) if len(m) else m for m in members]
    played = _popularity_order(np.flatnonzero(taste_of_row >= 0), popularity, rng)
    noise_cdf = np.cumsum(_zipf_weights(len(played), 0.8))
    taste_p = _zipf_weights(n_tastes, 0.8)[rng.permutation(n_tastes)]
    session_taste = rng.choice(n_tastes, size=n_sessions, p=taste_p).astype(np.int32)
    lengths = rng.lognormal(np.log(MEDIAN_LENGTH), LENGTH_SIGMA, size=n_sessions)
    lengths = np.clip(np.rint(lengths), MIN_LENGTH, MAX_LENGTH).astype(np.int64)
    n_noise = rng.binomial(lengths, NOISE_SHARE)
    noise_draw = np.searchsorted(noise_cdf, rng.random(int(n_noise.sum())) * noise_cdf[-1])
    noise_draw = played[np.minimum(noise_draw, len(played) - 1)]
    noise_starts = np.r_[0, np.cumsum(n_noise)]
    sessions, rows, in_taste = [], [], []
    for s in range(n_sessions):
        taste = session_taste[s]
        pool, logw = members[taste], member_logw[taste]
        take = min(int(lengths[s] - n_noise[s]), len(pool))
        keys = logw + rng.gumbel(size=len(pool))  # Gumbel top-k: weighted, no replacement
        picked = pool[np.argpartition(-keys, take - 1)[:take]] if take else pool[:0]
        # np.setdiff1d's result (sorted, unique, not picked) from sets: a few dozen values
        # per session, where numpy's per-call overhead was most of the loop.
        drawn = set(noise_draw[noise_starts[s] : noise_starts[s + 1]].tolist())
        noise = np.asarray(sorted(drawn.difference(picked.tolist())), dtype=np.int64)
        both = np.concatenate([picked, noise])
        order = rng.permutation(len(both))
        rows.append(both[order])
        in_taste.append((np.arange(len(both)) < len(picked))[order])
        sessions.append(np.full(len(both), s, dtype=np.int64))
    session, row, in_taste = (
        np.concatenate(sessions),
        np.concatenate(rows).astype(np.int64),
        np.concatenate(in_taste),
    )
    # Rare tracks keep one occurrence, in a random session: when that session is held out, the
    # track is a target no training session holds (the cold-start slice).
    # Drawn from the less popular half, as new and niche releases are, so sessions stay MPD-sized.
    rare = np.zeros(len(tracks), dtype=bool)
    tail = played[len(played) // 2 :]
    rare[tail] = rng.random(len(tail)) < 2 * RARE_SHARE
    occurrences = rng.permutation(np.flatnonzero(rare[row]))
    _, first = np.unique(row[occurrences], return_index=True)
    keep = ~rare[row]
    keep[occurrences[first]] = True
    return {
        "session": session[keep],
        "row": row[keep],
        "in_taste": in_taste[keep],
        "rare": rare,
        "session_taste": session_taste,
        "taste_of_row": taste_of_row,
        "taste_genres": taste_genres,
        "rng": rng,
    }


def events_log(tracks: pd.DataFrame, planted: dict, *, frame: bool = True) -> pd.DataFrame | None:
    """The sessions as play/like/save/skip events (schema columns; timestamp as datetimes,
    session_id and event categorical, to stay small at 100k sessions). The draws (skips, likes,
    times) happen even with ``frame=False``, so the MPD slices are the same either way."""
    rng, session, row = planted["rng"], planted["session"], planted["row"]
    in_taste = planted["in_taste"]
    n = len(row)
    starts = np.r_[0, np.flatnonzero(np.diff(session)) + 1]
    position = np.arange(n) - starts.repeat(np.diff(np.r_[starts, n]))
    skipped = rng.random(n) < np.where(in_taste, TASTE_SKIP, NOISE_SKIP)
    planted["skipped"] = skipped
    kept = ~skipped & in_taste
    parts = [(np.flatnonzero(~skipped), 0, 0), (np.flatnonzero(skipped), 1, 0)]
    for share, event, step in ((REPLAY, 0, 1), (LIKE, 2, 2), (SAVE, 3, 3)):
        parts.append((np.flatnonzero(kept & (rng.random(n) < share)), event, step))
    n_sessions = len(planted["session_taste"])
    start = END.value // 10**9 - rng.integers(0, 365 * _DAY_S, size=n_sessions)
    planted["session_end"] = start + np.bincount(session, minlength=n_sessions) * 210
    if not frame:
        return None
    index = np.concatenate([p[0] for p in parts])
    step = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
    event = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int8) for p in parts])
    order = np.lexsort((step, index))
    index, step, event = index[order], step[order], event[order]
    seconds = start[session[index]] + position[index] * 210 + step * 20
    names = [f"synth-{s}" for s in range(n_sessions)]
    return pd.DataFrame(
        {
            schema.LS_SESSION_ID: pd.Categorical.from_codes(session[index], names),
            schema.LS_TRACK_ID: tracks[schema.TRACK_ID].to_numpy(dtype=object)[row[index]],
            schema.LS_EVENT: pd.Categorical.from_codes(event, ["play", "skip", "like", "save"]),
            schema.LS_TIMESTAMP: pd.to_datetime(seconds, unit="s", utc=True),
        }
    )
