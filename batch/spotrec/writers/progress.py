"""Progress of a long publish phase: a tqdm bar on a terminal, a log line every few seconds
otherwise (CI logs, `spotrec publish` in a container)."""

from __future__ import annotations

import logging
import sys
import time
from types import TracebackType

log = logging.getLogger("spotrec.publish")
LOG_EVERY_SECONDS = 5.0


class Progress:
    """Count work done in one named phase; thread-safe enough for `update` from one thread."""

    def __init__(self, phase: str, total: int | None = None, unit: str = "items"):
        self.phase, self.total, self.unit = phase, total, unit
        self.done = 0
        self.started = self._last_log = time.monotonic()
        self._bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=phase, unit=unit.rstrip("s"), leave=False)
        log.info("%s: started%s", phase, f" ({total:,} {unit})" if total is not None else "")

    def update(self, count: int = 1) -> None:
        self.done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = time.monotonic()
        if now - self._last_log >= LOG_EVERY_SECONDS:
            self._last_log = now
            log.info("%s: %s", self.phase, self._status(now))

    def _status(self, now: float) -> str:
        seconds = max(now - self.started, 1e-9)
        of = f"/{self.total:,}" if self.total is not None else ""
        return f"{self.done:,}{of} {self.unit} in {seconds:.1f} s ({self.done / seconds:,.0f}/s)"

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()
        outcome = "failed" if kind else "done"
        log.info("%s: %s, %s", self.phase, outcome, self._status(time.monotonic()))
