"""Per-stage timings and peak memory, logged while a long job runs and kept for the manifest."""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

log = logging.getLogger("spotrec")
# faiss logs every failed attempt to load an AVX build at INFO: noise for our users.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, all threads: unlike wall time, what a
    stage costs does not depend on how many other jobs share the cores (docs/scale.md)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    On Linux it reads VmHWM, this process's own high-water mark: ru_maxrss is carried across
    exec, so a process spawned by a big one (the background search, a build started by a
    benchmark) would report its parent's peak. Elsewhere ru_maxrss (KiB; bytes on macOS)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


@dataclass
class StageTimer:
    """Collects wall-clock and CPU seconds per named stage, in the order the stages ran."""

    seconds: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        log.info("stage %s: started", name)
        begin, begin_cpu = time.perf_counter(), cpu_seconds()
        try:
            yield
        finally:
            elapsed, used = time.perf_counter() - begin, cpu_seconds() - begin_cpu
            self.seconds[name] = round(self.seconds.get(name, 0.0) + elapsed, 3)
            self.cpu[name] = round(self.cpu.get(name, 0.0) + used, 3)
            log.info(
                "stage %s: %.1f s, %.1f CPU s (total %.1f s, peak RSS %.0f MiB)",
                name,
                elapsed,
                used,
                self.total(),
                peak_rss_mb(),
            )

    def total(self) -> float:
        return round(time.perf_counter() - self.started, 3)
