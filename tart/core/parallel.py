"""Map a function over jobs in worker processes, results in job order; one process needs no pool."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(
    fn: Callable[[Job], Result],
    jobs: Iterable[Job],
    workers: int | None = None,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
) -> Iterator[Result]:
    """`map(fn, jobs)` over `workers` processes (default: the usable cores); serial when 1 or one job.

    `initializer(*initargs)` runs once per worker process (in this process when serial), e.g. to open a file.
    """
    jobs = list(jobs)
    workers = min(workers or default_workers(), len(jobs))
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        yield from map(fn, jobs)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer, initargs=initargs) as pool:
        yield from pool.map(fn, jobs)
