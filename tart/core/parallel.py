"""Map a function over jobs in worker processes, results in job order: here (a process pool, or this process for
one worker) or on a Dask cluster, as the params' `executor` section says. The output never depends on where the
jobs ran: results come back in job order and the caller writes them.

A stage opts in to the executor with `executing(p.executor)` around its work; without it every map runs here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


@dataclass(frozen=True)
class ExecutorChoice:
    """Where fan-out work runs: "local" (processes on this machine) or "dask" (a Dask cluster: the scheduler at
    `scheduler`, or a `LocalCluster` of the stage's worker count when it is None)."""

    kind: str = "local"
    scheduler: str | None = None


LOCAL = ExecutorChoice()


class LostWorkerError(RuntimeError):
    """A job whose Dask worker died every time it ran it (Dask reruns a lost worker's jobs on the others)."""

_current: ContextVar[ExecutorChoice] = ContextVar("tart_executor", default=LOCAL)


@contextmanager
def executing(choice) -> Iterator[None]:
    """Run the maps inside the block on `choice` (an `ExecutorChoice` or the params' `executor` section)."""
    token = _current.set(ExecutorChoice(choice.kind, choice.scheduler))
    try:
        yield
    finally:
        _current.reset(token)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(
    fn: Callable[[Job], Result],
    jobs: Iterable[Job],
    workers: int | None = None,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    name: Callable[[Job], str] | None = None,
) -> Iterator[Result]:
    """`map(fn, jobs)` over `workers` processes (default: the usable cores); serial when 1 or one job; on Dask
    inside `executing(...)` with kind "dask".

    `initializer(*initargs)` runs once per worker process (in this process when serial), e.g. to open a file.
    `name(job)` says which job failed in an error from a Dask worker (default: its position).
    """
    jobs = list(jobs)
    choice = _current.get()
    if choice.kind == "dask":
        # imported here: the local executor, and the training path on machines without Dask, never need it
        from tart.core.dask_map import dask_map

        yield from dask_map(fn, jobs, workers or default_workers(), initializer, initargs, name, choice.scheduler)
        return
    if choice.kind != "local":
        raise ValueError(f"executor.kind {choice.kind!r}: expected 'local' or 'dask'")
    workers = min(workers or default_workers(), len(jobs))
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        yield from map(fn, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=initargs) as pool:
        yield from pool.map(fn, jobs)
