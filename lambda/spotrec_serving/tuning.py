"""Spotify's tunable track attributes: ``min_*`` / ``max_*`` filters and ``target_*`` re-ranking.

Parameters (all 42 that spotipy forwards): ``min_``, ``max_`` and ``target_`` for each of the 14
attributes in TUNABLE_ATTRIBUTES. Types and ranges follow Spotify's reference:

* acousticness, danceability, energy, instrumentalness, liveness, speechiness, valence: numbers
  in 0..1;
* key 0..11, mode 0..1 and popularity 0..100: integers;
* duration_ms and time_signature: integers, unbounded; loudness and tempo: numbers, unbounded.

A value that is not a finite number (``nan``, ``inf``, ``1e999``, ``"abc"``), a fraction where an
integer is required, a value out of range, or ``min_X > max_X`` is a BadRequest naming the
parameter. A target need not lie between min and max (Spotify does not require it either).

Filters (min/max) are hard: a candidate is kept only when every filtered attribute is known and
``min <= value <= max``. A candidate missing a filtered attribute is dropped (it cannot be shown
to satisfy it).

Targets re-rank the filtered pool by closeness. Every targeted attribute counts equally, on the
scale of its catalogue spread (the standard deviation over the release's tracks, which the batch
job publishes in META as ``feature_spreads``; DEFAULT_SPREADS, measured on the Spotify Tracks
catalogue, when META has none):

    distance(track)  = mean over targeted attributes a of |value_a - target_a| / spread_a
    closeness(track) = 1 / (1 + distance)                        (1 = exactly on target)
    relevance(track) = fused RRF score / best fused RRF score in the filtered pool   (0..1]
    final(track)     = (1 - TARGET_WEIGHT) * relevance + TARGET_WEIGHT * closeness

with TARGET_WEIGHT = 0.5. So being one spread away from the targets (closeness 0.5) costs as
much as falling from the top of the fused list to about half its RRF score, roughly the whole
span of a 50-deep list (1/61 .. 1/110). Ties keep the fused order. ``key`` is treated as a
number (as Spotify's parameters do), not as a circle of pitch classes.

Everything here is a pure function over candidates of any type with a ``features_of(candidate)
-> Mapping[str, float]`` callable, so it does not depend on how the store lays candidates out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from spotrec_serving.errors import BadRequest

C = TypeVar("C")

UNIT = (0.0, 1.0)
# attribute -> (integer?, low, high); None = unbounded on that side.
ATTRIBUTE_RANGES: dict[str, tuple[bool, float | None, float | None]] = {
    "acousticness": (False, *UNIT),
    "danceability": (False, *UNIT),
    "duration_ms": (True, None, None),
    "energy": (False, *UNIT),
    "instrumentalness": (False, *UNIT),
    "key": (True, 0, 11),
    "liveness": (False, *UNIT),
    "loudness": (False, None, None),
    "mode": (True, 0, 1),
    "popularity": (True, 0, 100),
    "speechiness": (False, *UNIT),
    "tempo": (False, None, None),
    "time_signature": (True, None, None),
    "valence": (False, *UNIT),
}
TUNABLE_ATTRIBUTES = tuple(ATTRIBUTE_RANGES)
PREFIXES = ("min_", "max_", "target_")
PARAMETER_NAMES = tuple(p + a for a in TUNABLE_ATTRIBUTES for p in PREFIXES)

# Standard deviation of each attribute over the 89,741 unique tracks of the Spotify Tracks
# catalogue (pandas .std()); used only when META carries no `feature_spreads`.
DEFAULT_SPREADS: dict[str, float] = {
    "acousticness": 0.3383,
    "danceability": 0.1767,
    "duration_ms": 112947.7412,
    "energy": 0.2566,
    "instrumentalness": 0.3238,
    "key": 3.5599,
    "liveness": 0.1949,
    "loudness": 5.2215,
    "mode": 0.4809,
    "popularity": 20.5808,
    "speechiness": 0.1133,
    "tempo": 30.1175,
    "time_signature": 0.4534,
    "valence": 0.2629,
}
TARGET_WEIGHT = 0.5

_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True, slots=True)
class Tuning:
    minimums: dict[str, float] = field(default_factory=dict)
    maximums: dict[str, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)

    @property
    def filters(self) -> bool:
        return bool(self.minimums or self.maximums)

    @property
    def active(self) -> bool:
        return self.filters or bool(self.targets)


def parse_value(name: str, text: str) -> float:
    """One parameter's value, checked against its attribute's type and range."""
    attribute = name.split("_", 1)[1]
    integer, low, high = ATTRIBUTE_RANGES[attribute]
    stripped = text.strip()
    if integer:
        if not stripped.isascii() or not _INTEGER.match(stripped):
            raise BadRequest(f"invalid '{name}': {text[:40]!r} is not an integer")
        value: float = int(stripped)
    else:
        if not stripped.isascii() or not _DECIMAL.match(stripped):
            raise BadRequest(f"invalid '{name}': {text[:40]!r} is not a number")
        value = float(stripped)
        if not math.isfinite(value):
            raise BadRequest(f"invalid '{name}': {text[:40]!r} is not a finite number")
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadRequest(f"invalid '{name}': {value} is outside {low}..{high}")
    return value


def parse_tuning(param: Callable[[str], str | None]) -> Tuning:
    """All tunable parameters of a request; ``param(name)`` returns the raw value or None."""
    found: dict[str, dict[str, float]] = {prefix: {} for prefix in PREFIXES}
    for attribute in TUNABLE_ATTRIBUTES:
        for prefix in PREFIXES:
            text = param(prefix + attribute)
            if text is not None:
                found[prefix][attribute] = parse_value(prefix + attribute, text)
    minimums, maximums = found["min_"], found["max_"]
    for attribute in sorted(set(minimums) & set(maximums)):
        if minimums[attribute] > maximums[attribute]:
            raise BadRequest(
                f"invalid 'min_{attribute}': {minimums[attribute]} is greater than "
                f"'max_{attribute}' {maximums[attribute]}"
            )
    return Tuning(minimums, maximums, found["target_"])


def satisfies(
    features: Mapping[str, float], tuning: Tuning, slack: Mapping[str, float] | None = None
) -> bool:
    """Every min/max filter holds. ``slack`` widens each bound by the attribute's largest error
    (quantised features, items.feature_bound): then True means "may satisfy" and the exact
    values must be checked too; False means "certainly fails"."""
    slack = slack or {}
    for attribute, low in tuning.minimums.items():
        value = features.get(attribute)
        if value is None or value < low - slack.get(attribute, 0.0):
            return False
    for attribute, high in tuning.maximums.items():
        value = features.get(attribute)
        if value is None or value > high + slack.get(attribute, 0.0):
            return False
    return True


def filter_candidates(
    candidates: Iterable[C], features_of: Callable[[C], Mapping[str, float]], tuning: Tuning
) -> list[C]:
    """The candidates that satisfy every min/max filter, order kept."""
    if not tuning.filters:
        return list(candidates)
    return [c for c in candidates if satisfies(features_of(c), tuning)]


def closeness(
    features: Mapping[str, float], targets: Mapping[str, float], spreads: Mapping[str, float]
) -> float:
    """1 / (1 + mean spread-scaled distance to the targets); 1.0 without targets. A missing
    attribute counts as 10 spreads away (far, but it does not hide the track)."""
    if not targets:
        return 1.0
    total = 0.0
    for attribute, target in targets.items():
        spread = spreads.get(attribute) or DEFAULT_SPREADS[attribute] or 1.0
        value = features.get(attribute)
        total += 10.0 if value is None else abs(value - target) / spread
    return 1.0 / (1.0 + total / len(targets))


def rerank(
    scored: list[tuple[float, C]],
    features_of: Callable[[C], Mapping[str, float]],
    tuning: Tuning,
    spreads: Mapping[str, float] | None = None,
) -> list[tuple[float, C]]:
    """``scored`` = (fused score, candidate), best first -> (final score, candidate) by the
    module docstring's formula; unchanged when there are no targets."""
    if not tuning.targets or not scored:
        return scored
    spreads = {**DEFAULT_SPREADS, **(spreads or {})}
    best = max(score for score, _ in scored) or 1.0
    finals = [
        (
            (1 - TARGET_WEIGHT) * (score / best)
            + TARGET_WEIGHT * closeness(features_of(c), tuning.targets, spreads),
            order,
            c,
        )
        for order, (score, c) in enumerate(scored)
    ]
    finals.sort(key=lambda row: (-row[0], row[1]))
    return [(final, c) for final, _, c in finals]


def pack_features(features: Mapping[str, float]) -> list[float | None]:
    """The 14 attributes as a list in TUNABLE_ATTRIBUTES order (compact store form)."""
    return [features.get(a) for a in TUNABLE_ATTRIBUTES]


def unpack_features(packed: list[float | None]) -> dict[str, float]:
    return {a: v for a, v in zip(TUNABLE_ATTRIBUTES, packed, strict=True) if v is not None}


NO_TUNING = Tuning()
