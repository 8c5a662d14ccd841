"""The synthetic catalogue's rows, drawn from committed statistics (`spotrec data synth`'s
engine; data/synth.py writes them as the CSV and runs the command).

The rows have the real file's raw layout: schema.RAW_COLUMNS, one row per (track, genre),
genre blocks in order, index = the source row index.

How it is drawn (genre_stats.json, see data/stats.py):
* primary genres by their row share; each genre has its own artists, who mostly stay in it;
* the continuous features through a Gaussian copula: correlated normal draws (pooled Spearman
  correlation turned into Pearson) mapped through each genre's quantile function, so values
  have the genre's shape (skewed instrumentalness, zero popularity mass...) and stay in range;
* key, mode, time signature and explicit from each genre's frequencies;
* extra genres from each genre's usual partners (e.g. punk -> punk-rock);
* song variants: copies with the same title and artists, a new id and another album;
* one track with empty name, artists and album, like the real row 65900.
Everything comes from one ``numpy.random.Generator``, so a seed gives the same bytes.
"""

from __future__ import annotations

import math

DEFAULT_TRACKS = 20_000
MIN_TRACKS = 20
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SYLLABLE_TEXT = """ka la mi no ra su te vo an el is or um be da fi go hu jo ke li ma ne pi ro sa
ti va yo zen mar lun sol ver bel cor dan fel gar hal jin kor lor mel nor pal ros tal vin wen"""
_SYLLABLES = tuple(_SYLLABLE_TEXT.split())
_WORD_TEXT = """love night heart fire rain dream light blue city home summer gold wild dance time
river moon stars ocean shadow road echo storm sky forever girl boy baby world"""
_TITLE_WORDS = tuple(_WORD_TEXT.split())
_VARIANT_ALBUMS = ("{album} (Deluxe Edition)", "{name}", "{album} (Remastered)", "Best Of {artist}")
# Features written with 3 significant digits, like the source; loudness and tempo to 3 decimals.
_SIGNIFICANT_3 = (
    "danceability",
    "energy",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
)


def _word(rng, low=1, high=3) -> str:
    # Indexing a tuple with rng.integers draws exactly what rng.choice(tuple) draws, without
    # converting the tuple to an array on every call (the hot spot at 1M tracks).
    picks = rng.integers(0, len(_SYLLABLES), size=rng.integers(low, high + 1))
    return "".join(_SYLLABLES[i] for i in picks).capitalize()


def _title(rng) -> str:
    words = [
        _word(rng)
        if rng.random() < 0.5
        else _TITLE_WORDS[rng.integers(len(_TITLE_WORDS))].capitalize()
        for _ in range(rng.integers(1, 4))
    ]
    return " ".join(words)


def _artist_name(rng) -> str:
    if rng.random() < 0.15:
        return f"The {_word(rng, 2, 3)}s"
    return " ".join(_word(rng) for _ in range(rng.integers(1, 3)))


def _draw_from_table(rng, table: dict[str, float], size=None):
    values = [int(v) for v in table]
    shares = list(table.values())
    total = sum(shares)  # once: summing per share made each call quadratic in the table size
    return rng.choice(values, size=size, p=[s / total for s in shares])


def _copula_normals(rng, stats: dict, n: int):
    """(n, d) standard normals with the pooled correlation of the real features."""
    import numpy as np

    spearman = np.asarray(stats["copula"]["spearman"], dtype=float)
    pearson = 2 * np.sin(np.pi * spearman / 6)  # Spearman -> Pearson for a Gaussian copula
    values, vectors = np.linalg.eigh(pearson)  # clip tiny negative eigenvalues (rounding)
    root = vectors * np.sqrt(np.clip(values, 1e-6, None))
    return rng.standard_normal((n, len(spearman))) @ root.T


def _draw_features(rng, stats: dict, genre_of_song) -> dict:
    """Per song, every numeric column, drawn within each song's primary genre."""
    import numpy as np

    n = len(genre_of_song)
    names = stats["copula"]["features"]
    levels = np.asarray(stats["quantile_levels"])
    normal_cdf = np.frompyfunc(lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2))), 1, 1)
    uniforms = normal_cdf(_copula_normals(rng, stats, n)).astype(float)
    out = {name: np.zeros(n) for name in names}
    out.update({c: np.zeros(n, dtype=np.int64) for c in ("key", "mode", "time_signature")})
    out["explicit"] = np.zeros(n, dtype=bool)
    for genre in sorted(set(genre_of_song)):
        rows = np.flatnonzero(genre_of_song == genre)
        spec = stats["genres"][genre]
        for j, name in enumerate(names):
            quantiles = spec["features"][name]["quantiles"]
            out[name][rows] = np.interp(uniforms[rows, j], levels, quantiles)
        for column, table in spec["categorical"].items():
            out[column][rows] = _draw_from_table(rng, table, size=len(rows))
        out["explicit"][rows] = rng.random(len(rows)) < spec["explicit_rate"]
    for column in ("popularity", "duration_ms"):
        out[column] = np.rint(out[column]).astype(np.int64)
    for column in _SIGNIFICANT_3:
        out[column] = np.asarray([float(f"{v:.3g}") for v in out[column]])
    for column in ("loudness", "tempo"):
        out[column] = np.round(out[column], 3)
    return out


def _assign_artists(rng, stats: dict, genre_of_song) -> list[list[str]]:
    """Artists own runs of songs inside one genre (sizes from the real tracks-per-artist)."""
    import numpy as np

    catalogue = stats["catalogue"]
    artists: list[list[str]] = [[] for _ in genre_of_song]
    used: set[str] = set()
    for genre in sorted(set(genre_of_song)):
        songs = rng.permutation(np.flatnonzero(genre_of_song == genre))
        pool, start = [], 0
        while start < len(songs):
            name = _artist_name(rng)
            while name in used:
                name = _artist_name(rng)
            used.add(name)
            pool.append(name)
            size = int(_draw_from_table(rng, catalogue["tracks_per_artist"]))
            for song in songs[start : start + size]:
                artists[song] = [name]
            start += size
        pool_array = np.asarray(pool)  # once per genre, not once per song
        for song in songs:  # collaborations: extra artists from the same genre's pool
            extra = int(_draw_from_table(rng, catalogue["artists_per_track"])) - 1
            size = min(max(extra, 0), len(pool))
            for other in rng.choice(pool_array, size=size, replace=False):
                if other not in artists[song]:
                    artists[song].append(str(other))
    return artists


def _extra_genres(rng, stats: dict, genre_of_song) -> list[list[str]]:
    """Full sorted genre list per song: primary plus partners for some songs."""
    import numpy as np

    genres_spec = stats["genres"]
    catalogue = stats["catalogue"]
    mean_rate = np.mean([g["multi_genre_rate"] for g in genres_spec.values()]) or 1.0
    extra_table = {k: v for k, v in catalogue["genres_per_track"].items() if int(k) > 1}
    out = []
    for genre in genre_of_song:
        spec = genres_spec[genre]
        chosen = {str(genre)}
        rate = catalogue["multi_genre_rate"] * spec["multi_genre_rate"] / mean_rate
        if spec["partners"] and rng.random() < min(rate, 0.9):
            partners = list(spec["partners"])
            weights = np.asarray(list(spec["partners"].values()))
            k = min(int(_draw_from_table(rng, extra_table)) - 1, len(partners))
            chosen.update(rng.choice(partners, size=k, replace=False, p=weights / weights.sum()))
        out.append(sorted(chosen))
    return out


def _track_ids(rng, n: int) -> list[str]:
    import numpy as np

    alphabet = np.asarray(list(_BASE62))
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < n:  # a collision in 62**22 is unheard of; redraw rather than assume
        for chars in alphabet[rng.integers(0, 62, size=(n - len(ids), 22))]:
            candidate = "".join(chars)
            if candidate not in seen:
                seen.add(candidate)
                ids.append(candidate)
    return ids


def _plan_variants(rng, stats: dict, n_tracks: int) -> list[int]:
    """Sizes of the variant groups (each >= 2) so about variant_track_rate of tracks are in one."""
    catalogue = stats["catalogue"]
    sizes: list[int] = []
    target = round(catalogue["variant_track_rate"] * n_tracks)
    while sum(sizes) < target:
        size = int(_draw_from_table(rng, catalogue["variant_group_sizes"]))
        sizes.append(min(size, max(2, target - sum(sizes))))
    return sizes


def generate_rows(n_tracks: int = DEFAULT_TRACKS, seed: int = 0, stats: dict | None = None):
    """The synthetic catalogue as raw rows: a DataFrame with schema.RAW_COLUMNS, one row per
    (track, genre), index = the source row index."""
    import numpy as np
    import pandas as pd

    from spotrec import schema
    from spotrec.data.stats import load_stats
    from spotrec.errors import SpotrecError

    if n_tracks < MIN_TRACKS:
        raise SpotrecError(f"--tracks must be at least {MIN_TRACKS} (got {n_tracks})")
    stats = stats or load_stats()
    rng = np.random.default_rng(seed)
    genre_names = sorted(stats["genres"])
    shares = np.asarray([stats["genres"][g]["row_share"] for g in genre_names])

    group_sizes = _plan_variants(rng, stats, n_tracks)
    n_songs = n_tracks - sum(size - 1 for size in group_sizes)
    genre_of_song = rng.choice(genre_names, size=n_songs, p=shares / shares.sum())
    features = _draw_features(rng, stats, genre_of_song)
    artists = _assign_artists(rng, stats, genre_of_song)
    genres = _extra_genres(rng, stats, genre_of_song)
    names = [_title(rng) for _ in range(n_songs)]
    albums = [_title(rng) if rng.random() < 0.7 else names[i] for i in range(n_songs)]

    # Song i becomes track i; variant copies are appended after the originals.
    song_of_track = list(range(n_songs))
    variant_songs = rng.choice(np.arange(1, n_songs), size=len(group_sizes), replace=False)
    for song, size in zip(variant_songs, group_sizes, strict=True):
        song_of_track.extend([int(song)] * (size - 1))
    song_of_track = np.asarray(song_of_track)
    track_ids = _track_ids(rng, len(song_of_track))
    columns = {c: features[c][song_of_track] for c in features}
    track_names = [names[s] for s in song_of_track]
    track_artists = [artists[s] for s in song_of_track]
    track_albums = [albums[s] for s in song_of_track]
    for t in range(n_songs, len(song_of_track)):  # variants: another album and popularity
        first = int(rng.integers(len(_VARIANT_ALBUMS)))
        for k in range(len(_VARIANT_ALBUMS)):  # the first template that changes the album
            album = _VARIANT_ALBUMS[(first + k) % len(_VARIANT_ALBUMS)].format(
                album=track_albums[t], name=track_names[t], artist=track_artists[t][0]
            )
            if album != track_albums[t]:
                break
        track_albums[t] = album
        columns["popularity"][t] = rng.integers(0, 80)
    # Track 0 is never a variant; it gets the real row 65900's empty name/artists/album.
    track_names[0], track_artists[0], track_albums[0] = "", [], ""
    columns["popularity"][0] = columns["duration_ms"][0] = 0

    differs = stats["catalogue"]["popularity_differs_rate"]
    # (track, genre) rows in genre order, then track order: one pass over the tracks instead of
    # one per genre.
    tracks_of_genre: dict[str, list[int]] = {genre: [] for genre in genre_names}
    for t, song in enumerate(song_of_track):
        for genre in genres[song]:
            tracks_of_genre[genre].append(t)
    records = []
    for genre in genre_names:
        for t in tracks_of_genre[genre]:
            popularity = int(columns["popularity"][t])
            primary = genre == genre_of_song[song_of_track[t]]
            if not primary and rng.random() < differs:  # as in the real file; ingest takes max
                popularity = max(0, popularity - int(rng.integers(1, 6)))
            records.append((t, genre, popularity))
    track_index = np.asarray([r[0] for r in records])
    rows = pd.DataFrame(
        {
            "track_id": np.asarray(track_ids, dtype=object)[track_index],
            "artists": [schema.RAW_ARTIST_SEPARATOR.join(track_artists[t]) for t in track_index],
            "album_name": [track_albums[t] for t in track_index],
            "track_name": [track_names[t] for t in track_index],
            "popularity": [r[2] for r in records],
            **{c: columns[c][track_index] for c in ("duration_ms", "explicit")},
            **{c: columns[c][track_index] for c in schema.AUDIO_FEATURES},
            "track_genre": [r[1] for r in records],
        }
    )
    return rows[list(schema.RAW_COLUMNS)]
