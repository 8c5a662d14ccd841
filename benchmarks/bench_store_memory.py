"""Store-stage memory benchmark: write a build's SQLite store while a thread prints the process's
RSS and peak (VmRSS / VmHWM) every few seconds, then the CPU seconds and the peak.

    python benchmarks/bench_store_memory.py BUILD_DIR [--out STORE] [--every 5]

Take the stack at a peak with `py-spy dump --pid PID` (docs/performance.md, Session 4).
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path

from spotrec.stages import cpu_seconds, peak_rss_mb
from spotrec.writers.sqlite import write_store


def current_rss_mib() -> int:
    """Resident set size of this process now, in MiB, from /proc (Linux); getrusage has only
    the peak (stages.peak_rss_mb)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--out", type=Path, help="store path (default: a temporary file)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    def sample() -> None:
        while True:
            now, peak = current_rss_mib(), peak_rss_mb()
            print(f"{time.strftime('%H:%M:%S')} RSS {now} MiB peak {peak:.0f} MiB", flush=True)
            time.sleep(args.every)

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        write_store(args.build, path=args.out or Path(scratch) / "store.sqlite")
    print(
        f"store of {args.build}: {time.perf_counter() - started:.1f} s wall, "
        f"{cpu_seconds():.1f} CPU s, peak RSS {peak_rss_mb():,.0f} MiB"
    )


if __name__ == "__main__":
    main()
