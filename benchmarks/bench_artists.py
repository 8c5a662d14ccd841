"""Artist items of a release: time, peak RSS and bytes of each step, on an existing build.

    python benchmarks/bench_artists.py BUILD_DIR [--model cosine]

BUILD_DIR is a `spotrec build` output (tracks.parquet, neighbours/<model>.parquet). Prints the
artist count, seconds for the artist table, the related-artists sparse product and the AS#
seed lists of one model, the bytes of the A# items (JSON) and of one model's AS# items
(packed), and the process's peak RSS. docs/performance.md records the figures.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from spotrec.writers import artists
from spotrec.writers.items import encode_body
from spotrec.writers.release_catalogue import NeighbourTable, load_release_catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", type=Path)
    parser.add_argument("--model", default="cosine")
    args = parser.parse_args()
    catalogue = load_release_catalogue(args.build_dir)
    table = NeighbourTable(args.build_dir / "neighbours" / f"{args.model}.parquet", catalogue)

    def timed(label, work):
        start = time.perf_counter()
        result = work()
        print(f"{label}: {time.perf_counter() - start:.1f} s")
        return result

    people = timed("artist table", lambda: artists.build_artist_table(catalogue))
    related = timed("related artists", lambda: artists.related_artists(people, table))
    seed_bytes = timed(
        f"AS#{args.model} seed lists",
        lambda: sum(
            len(b) for _, b in artists.model_artist_items(args.model, people, table, catalogue)
        ),
    )
    a_bytes = sum(
        len(encode_body(key, body).encode())
        for key, body in artists.artist_items(people, related, catalogue)
    )
    print(f"tracks {len(catalogue.ids):,}, artists {len(people):,}")
    print(f"A# bytes {a_bytes:,}, AS#{args.model} bytes {seed_bytes:,}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
