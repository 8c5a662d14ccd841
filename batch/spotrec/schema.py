"""Column names and table schemas: the one place they are defined.

Every module that reads or writes a catalogue or neighbour table imports names from here,
so a renamed column is a one-line change.
"""

from __future__ import annotations

# --- The raw CSV (maharshipandya "Spotify Tracks Dataset") -------------------------------------
# The first header cell is empty: it is the unnamed 0..113999 row index.
RAW_INDEX = ""
RAW_COLUMNS = (
    "track_id",
    "artists",
    "album_name",
    "track_name",
    "popularity",
    "duration_ms",
    "explicit",
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
    "time_signature",
    "track_genre",
)
RAW_ARTIST_SEPARATOR = ";"  # "Ilaiyaraaja;S. P. Balasubrahmanyam" in the source

# --- tracks.parquet: one row per unique track_id ------------------------------------------------
TRACK_ID = "track_id"
NAME = "name"
ARTISTS = "artists"  # list<string>, split on RAW_ARTIST_SEPARATOR, order kept
ALBUM = "album"
POPULARITY = "popularity"  # int 0..100; max over the track's rows (it differs between genre rows)
DURATION_MS = "duration_ms"
EXPLICIT = "explicit"  # bool
GENRES = "genres"  # list<string>, sorted: the set of genres the track is listed under
SONG_ID = "song_id"  # variant group: tracks sharing it are one song (see data/variants.py)
HOLDOUT = "holdout"  # bool: genres hidden from every model (cold-start evaluation)
FIRST_ROW = "first_row"  # index of the track's first row in the source CSV

# Audio features in Spotify's audio-features object, with their valid ranges (inclusive).
# tempo and time_signature are 0 for ~160 real tracks where Spotify could not detect them,
# so 0 is valid ("undetected") rather than a reject.
AUDIO_FEATURE_RANGES: dict[str, tuple[float, float]] = {
    "danceability": (0.0, 1.0),
    "energy": (0.0, 1.0),
    "key": (-1, 11),
    "loudness": (-60.0, 5.0),
    "mode": (0, 1),
    "speechiness": (0.0, 1.0),
    "acousticness": (0.0, 1.0),
    "instrumentalness": (0.0, 1.0),
    "liveness": (0.0, 1.0),
    "valence": (0.0, 1.0),
    "tempo": (0.0, 300.0),
    "time_signature": (0, 7),
}
AUDIO_FEATURES = tuple(AUDIO_FEATURE_RANGES)
INTEGER_FEATURES = ("key", "mode", "time_signature")

TRACK_COLUMNS = (
    TRACK_ID,
    NAME,
    ARTISTS,
    ALBUM,
    POPULARITY,
    DURATION_MS,
    EXPLICIT,
    *AUDIO_FEATURES,
    GENRES,
    SONG_ID,
    HOLDOUT,
    FIRST_ROW,
)

# --- neighbours/<model>.parquet: long format ----------------------------------------------------
NB_TRACK_ID = "track_id"  # string: the seed
NB_RANK = "rank"  # int32, 1 = nearest
NB_NEIGHBOUR_ID = "neighbour_id"  # string
NB_SCORE = "score"  # float32, higher = more similar
NEIGHBOUR_COLUMNS = (NB_TRACK_ID, NB_RANK, NB_NEIGHBOUR_ID, NB_SCORE)

# --- rejects.csv: rows the ingest refused ---------------------------------------------------------
REJECT_ROW = "row"  # source row index (the unnamed first column), or the line number
REJECT_REASON = "reason"  # a stable, named reason, e.g. "bad_track_id", "out_of_range:tempo"
REJECT_DETAIL = "detail"
REJECT_COLUMNS = (REJECT_ROW, REJECT_REASON, REJECT_DETAIL)

# --- Build directory layout ---------------------------------------------------------------------
MANIFEST_FILE = "manifest.json"
TRACKS_FILE = "tracks.parquet"
NEIGHBOURS_DIR = "neighbours"
STORE_FILE = "store.sqlite"
REJECTS_FILE = "rejects.csv"
MODELS_DIR = "models"  # saved model artefacts (no pickle)
EMBEDDINGS_DIR = "embeddings"  # <model>.npy float32, row order = tracks.parquet
REPORT_DIR = "report"

ALL_MODELS = ("cosine", "autoencoder", "transformer", "blend")
# What `spotrec build` builds when --models is not given. The autoencoder stays buildable by name
# but is not trained, searched or stored by default: on held-out listening it lost to the
# transformer on every metric (docs/learned-models.md) and the blend gives it weight 0.
DEFAULT_MODELS = ("cosine", "transformer", "blend")
DEFAULT_TOP_N = 50
# The listening models' lists (colistening, hybrid) are deeper: merging 5 seeds' top-50 lost ~9%
# NDCG@100 on held-out listening against top-100/200, content gained nothing past 50
# (docs/performance.md "Full pools"). Filters and large limits are served by the fallback pools.
DEFAULT_LISTENING_TOP_N = 200

# --- Listening data (data/listening/): the events table every reader returns -----------------
LS_SESSION_ID = "session_id"  # str: "mpd:<pid>" for MPD playlists, else the log's session id
LS_TRACK_ID = "track_id"  # str: a catalogue track id (after URI stripping / name matching)
LS_EVENT = "event"  # str, one of LISTENING_EVENTS
LS_TIMESTAMP = "timestamp"  # datetime64[ns, UTC]; NaT allowed
LS_POSITION = "position"  # int32: order within the session
LISTENING_COLUMNS = (LS_SESSION_ID, LS_TRACK_ID, LS_EVENT, LS_TIMESTAMP, LS_POSITION)
LISTENING_EVENTS = ("play", "like", "save", "skip", "add")
LS_WEIGHT = "weight"  # float32, session_item_weights output
LISTENING_WEIGHT_COLUMNS = (LS_SESSION_ID, LS_TRACK_ID, LS_WEIGHT)
# listening rejects: source file, line (or playlist index / record number), reason, detail
LS_REJECT_SOURCE = "source"
LS_REJECT_LINE = "line"
LISTENING_REJECT_COLUMNS = (LS_REJECT_SOURCE, LS_REJECT_LINE, REJECT_REASON, REJECT_DETAIL)
MPD_SESSION_PREFIX = "mpd:"
SPOTIFY_TRACK_URI_PREFIX = "spotify:track:"

LISTENING_DIR = "listening"
LISTENING_TRAIN_FILE = "listening/train.parquet"  # events of training sessions
LISTENING_HELDOUT_FILE = "listening/heldout.parquet"  # events of held-out sessions (eval only)
LISTENING_REJECTS_FILE = "listening/rejects.csv"
LISTENING_STATS_FILE = "listening/stats.json"

# Models that learn from listening data: built only when the build is given --interactions.
# trending re-orders the hybrid's lists by rising interactions (trend_build.py): built only
# when the listening data has timestamps.
LISTENING_MODELS = ("colistening", "hybrid", "trending")
