"""The one home of name normalisation, shared by batch and serving (stdlib only).

Two purposes, two functions, one module:

* ``identity_key`` decides whether two names are *the same name*: Unicode NFKC, case folding
  and collapsed whitespace. Song variants, artist identity (and so artist ids), holdout artist
  lists and listening-data matching all use it, so "Beyoncé" and "BEYONCÉ " are one artist
  everywhere, while "Beyonce" (no accent) stays a different spelling.
* ``search_text`` / ``search_words`` are for *finding* names as you type: on top of the identity
  form, accents are stripped and punctuation becomes a word break, so "beyon" finds "Beyoncé".

Artist ids: the data has artist names only. ``artist_id`` derives a stable id of Spotify's form
(22 base-62 characters) from the identity key, so it is the same in every build and on every
machine. Artists who share a name are one artist here: the data cannot tell them apart.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SPOTIFY_ID_LENGTH = 22


def identity_key(text: str) -> str:
    """NFKC + casefold + runs of whitespace collapsed to one space, trimmed."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _WHITESPACE.sub(" ", folded).strip()


def search_text(text: str) -> str:
    """Case- and accent-insensitive form used by the search index and its queries.

    "Beyoncé" -> "beyonce"; punctuation becomes a word break; CJK and other scripts are kept.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.findall(r"\w+", stripped))


def search_words(text: str) -> list[str]:
    return search_text(text).split()


def base62_id(key: str, namespace: str) -> str:
    """22 base-62 characters from a SHA-256 of namespace + key (about 131 bits: no collisions
    in practice, and deterministic across builds)."""
    number = int.from_bytes(hashlib.sha256(f"{namespace}\x1f{key}".encode()).digest()[:17], "big")
    chars = []
    for _ in range(SPOTIFY_ID_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(reversed(chars))


def artist_id(name: str) -> str:
    """The stable Spotify-form id of an artist name (see the module docstring)."""
    return base62_id(identity_key(name), "artist")
