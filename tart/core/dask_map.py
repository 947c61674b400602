"""`parallel_map` on a Dask cluster (tart.core.parallel, executor kind "dask"): jobs become Dask tasks, results
come back in job order, the map's initializer runs in every worker process as a worker plugin."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin

from tart.core.parallel import LostWorkerError


class WorkerSetup(WorkerPlugin):
    """Runs the map's initializer in every worker process, including workers that join or replace a lost one while
    the map runs."""

    def __init__(self, initializer: Callable[..., None], initargs: tuple) -> None:
        self.initializer, self.initargs = initializer, initargs

    def setup(self, worker) -> None:
        self.initializer(*self.initargs)


def dask_map(fn: Callable, jobs: list, workers: int, initializer: Callable[..., None] | None, initargs: tuple,
             name: Callable[[object], str] | None, scheduler: str | None) -> Iterator:  # fmt: skip
    """`fn` over `jobs` on the scheduler at `scheduler`, or on a `LocalCluster` of `workers` single-threaded
    processes when it is None. An exception from a job is raised as it was, with a note naming the job; a job whose
    workers all died raises `LostWorkerError` naming it."""
    if not jobs:
        return
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=min(workers, len(jobs)), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR)  # fmt: skip
    client = Client(cluster if cluster is not None else scheduler)
    run_id = uuid.uuid4().hex
    try:
        if initializer is not None:
            client.register_plugin(WorkerSetup(initializer, initargs), name=f"tart-setup-{run_id}")
        # pure=False: every job runs (two equal-looking jobs are not merged into one task)
        futures = client.map(fn, jobs, pure=False, key=[f"tart-{run_id}-{k}" for k in range(len(jobs))])
        for k, (job, future) in enumerate(zip(jobs, futures)):
            label = name(job) if name is not None else f"job {k + 1} of {len(jobs)}"
            try:
                yield future.result()
            except KilledWorker as exc:
                raise LostWorkerError(f"{label}: every Dask worker that ran it died (the scheduler's "
                                      "distributed.scheduler.allowed-failures limit); see the workers' logs") from exc
            except Exception as exc:
                exc.add_note(f"raised by {label} on a Dask worker")
                raise
    finally:
        if initializer is not None and cluster is None:  # a shared cluster keeps no trace of this map
            try:
                client.unregister_worker_plugin(f"tart-setup-{run_id}")
            except Exception:  # noqa: BLE001 - the map's own error, if any, is the one to report
                pass
        client.close()
        if cluster is not None:
            cluster.close()
