"""The neighbours stage of a model whose embeddings are ready, run in a background process while
the train stage goes on fitting the next model (``spotrec build`` with ``--stage all``).

Why: the transformer's fit trains on one torch thread (models/training.py says why), so during
its minutes the second core idles, while the cosine model's exact search, which does not depend
on it, waits its turn. Running that search beside the fit keeps both cores busy.

How, and why so:
* A separate process (spawned, never forked: torch's and FAISS's OpenMP pools do not survive a
  fork), not a thread, so each side's CPU seconds stay its own: the stage log and the manifest's
  ``cpu_s`` of ``fit:<model>`` and ``neighbours:<model>`` mean what they meant when the stages
  ran one after the other.
* The process is held to ONE core (CPU affinity): the neighbour search sizes its FAISS thread pool
  by the cores it may use (neighbours.available_cores), so search + torch use the two cores
  without oversubscribing them.
* It runs the very same ``list_stages.neighbours_stage`` on the same embedding files, so its
  lists are the sequential build's lists (tests/batch/test_background_search.py compares them).
* Its log records go through a queue to this process's handlers, with the same stage lines
  (the stage timer shares the build's start time, so "total" is the build's clock).
* A failure on either side fails the build: a search error is re-raised here with its reason
  when the train stage ends; a train-stage error stops the search process.
"""

from __future__ import annotations

import logging
import logging.handlers
import multiprocessing
import os
import traceback
from pathlib import Path
from typing import Any

from spotrec.ann import SearchSettings
from spotrec.errors import SpotrecError
from spotrec.stages import StageTimer, peak_rss_mb

log = logging.getLogger("spotrec.build")

_DONE = None  # the sentinel that ends the worker's queue of model names


def _one_core() -> None:
    """Hold this process to one of the cores it may use (the last one)."""
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > 1:
            os.sched_setaffinity(0, {cores[-1]})


class _Relay(logging.Handler):
    """Hands the worker's log records to the build process's own loggers (and handlers)."""

    def handle(self, record: logging.LogRecord) -> bool:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
        return True


def _worker(
    out: str,
    top_n: int,
    search: SearchSettings,
    started: float,
    level: int,
    names,
    results,
    records,
) -> None:
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level)
    _one_core()
    from spotrec.list_stages import neighbours_stage

    while (name := names.get()) is not _DONE:
        timer = StageTimer(started=started)
        try:
            neighbours_stage(Path(out), [name], top_n, None, timer, search)
        except BaseException as exc:  # every failure goes back with its reason
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            results.put((name, None, None, detail, peak_rss_mb()))
            return
        results.put((name, timer.seconds, timer.cpu, None, peak_rss_mb()))


class BackgroundSearch:
    """``start(model)`` queues a model's neighbours stage in the background process;
    ``finish(timer)`` waits for them, adds their timings to the build's timer and returns the
    models done (raising SpotrecError with the reason if one failed); ``stop()`` ends the
    process early (the train stage failed)."""

    def __init__(self, out: Path, top_n: int, search: SearchSettings, started: float) -> None:
        context = multiprocessing.get_context("spawn")
        self._names = context.Queue()
        self._results = context.Queue()
        self._records = context.Queue()
        self._relay = logging.handlers.QueueListener(self._records, _Relay())
        self._args = (str(out), top_n, search, started, logging.getLogger().getEffectiveLevel())
        self._context = context
        self._process = None
        self.queued: list[str] = []

    def start(self, name: str) -> None:
        if self._process is None:
            self._relay.start()
            self._process = self._context.Process(
                target=_worker,
                args=(*self._args, self._names, self._results, self._records),
                name="spotrec-background-search",
                daemon=True,
            )
            self._process.start()
        log.info("neighbours:%s runs in a background process (one core) beside the fits", name)
        self._names.put(name)
        self.queued.append(name)

    def finish(self, timer: StageTimer) -> list[str]:
        if self._process is None:
            return []
        self._names.put(_DONE)
        done: list[str] = []
        try:
            for _ in self.queued:
                name, seconds, cpu, error, peak = self._next_result()
                # Not in the manifest's peak_rss_mb (this process's): the build's memory is
                # at most the sum of the two peaks.
                log.info("background search process: peak RSS %.0f MiB", peak)
                if error is not None:
                    raise SpotrecError(f"neighbours:{name} (background search) failed: {error}")
                for stage, value in seconds.items():
                    timer.seconds[stage] = round(timer.seconds.get(stage, 0.0) + value, 3)
                for stage, value in cpu.items():
                    timer.cpu[stage] = round(timer.cpu.get(stage, 0.0) + value, 3)
                done.append(name)
        finally:
            self._close(terminate=False)
        return done

    def _next_result(self) -> tuple[Any, ...]:
        import queue

        while True:
            try:
                return self._results.get(timeout=1.0)
            except queue.Empty:
                if not self._process.is_alive() and self._results.empty():
                    code = self._process.exitcode
                    raise SpotrecError(
                        f"the background neighbour search process died (exit code {code})"
                    ) from None

    def stop(self) -> None:
        self._close(terminate=True)

    def _close(self, *, terminate: bool) -> None:
        if self._process is None:
            return
        if terminate and self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._relay.stop()
        self._process = None
