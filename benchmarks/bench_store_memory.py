"""Store-stage memory benchmark: write a build's SQLite store while a thread prints the process's
RSS and peak (VmRSS / VmHWM) every few seconds, then the CPU seconds and the peak.

    python benchmarks/bench_store_memory.py BUILD_DIR [--out STORE] [--every 5]

Take the stack at a peak with `py-spy dump --pid PID` (docs/performance.md, Session 4).
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import threading
import time
from pathlib import Path

from spotrec.writers.sqlite import write_store


def memory_mib() -> tuple[int, int]:
    """(current RSS, peak RSS) of this process in MiB, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", type=Path)
    parser.add_argument("--out", type=Path, help="store path (default: a temporary file)")
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    def sample() -> None:
        while True:
            rss, peak = memory_mib()
            print(f"{time.strftime('%H:%M:%S')} RSS {rss} MiB peak {peak} MiB", flush=True)
            time.sleep(args.every)

    threading.Thread(target=sample, daemon=True).start()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        write_store(args.build, path=args.out or Path(scratch) / "store.sqlite")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"store of {args.build}: {time.perf_counter() - started:.1f} s wall, "
        f"{usage.ru_utime + usage.ru_stime:.1f} CPU s, peak RSS {memory_mib()[1]:,} MiB"
    )


if __name__ == "__main__":
    main()
