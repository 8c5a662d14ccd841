"""Locust users for the bounded load run (tests/load_support.py, benchmarks/bench_load.py).

A client mix a music app would send: recommendations from 1-5 known seeds (most traffic),
single and batch track lookups, audio features, search. Ids and genres come from the JSON file
named by SPOTREC_LOAD_DATA. Any status other than 200 counts as a failure (locust's default for
>= 400), so the run's error count must be 0.
"""

from __future__ import annotations

import json
import os
import random

from locust import FastHttpUser, between, task

DATA = json.loads(open(os.environ["SPOTREC_LOAD_DATA"]).read())  # noqa: SIM115 (read once)
IDS: list[str] = DATA["track_ids"]
WORDS: list[str] = DATA["search_words"]


class AppClient(FastHttpUser):
    wait_time = between(0, 0.01)

    @task(6)
    def recommendations(self) -> None:
        seeds = ",".join(random.sample(IDS, random.randint(1, 5)))
        limit = random.choice((10, 20, 50))
        self.client.get(
            f"/v1/recommendations?seed_tracks={seeds}&limit={limit}",
            name="/v1/recommendations",
        )

    @task(2)
    def track(self) -> None:
        self.client.get(f"/v1/tracks/{random.choice(IDS)}", name="/v1/tracks/{id}")

    @task(1)
    def tracks(self) -> None:
        ids = ",".join(random.sample(IDS, 20))
        self.client.get(f"/v1/tracks?ids={ids}", name="/v1/tracks")

    @task(1)
    def audio_features(self) -> None:
        self.client.get(f"/v1/audio-features/{random.choice(IDS)}", name="/v1/audio-features/{id}")

    @task(1)
    def search(self) -> None:
        self.client.get(f"/v1/search?q={random.choice(WORDS)}&type=track", name="/v1/search")
