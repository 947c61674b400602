"""The executor: the same jobs on a Dask cluster give the local results in job order, and the fan-out stages'
files byte for byte; a lost worker's job is rerun; a failing job is named."""

import json
import os
import subprocess
import sys
import time

import pytest
from helpers import always_die, die_once, fail_on_three

from tart.core.parallel import ExecutorChoice, LostWorkerError, executing, parallel_map
from tart.io.extract import extract
from tart.spaces.nb201.build import BuildOutputs, build_nb201
from tart.tokens.tokenize import tokenize

dask = pytest.importorskip("dask")  # the GPU machines' Python has no Dask; the executor is optional there
distributed = pytest.importorskip("distributed")
DASK = ExecutorChoice("dask")
# Each of these starts a LocalCluster of worker processes (10-20 s on two cores): CI's integration run has them,
# the default run keeps the in-process checks.
CLUSTER = pytest.mark.integration


def square(x: int) -> int:
    return x * x


def test_dask_map_returns_the_local_results_in_job_order():
    jobs = list(range(12))
    with executing(DASK):
        on_dask = list(parallel_map(abs, [-j for j in jobs], workers=2))
    assert on_dask == list(parallel_map(abs, [-j for j in jobs], workers=2)) == jobs


@CLUSTER
def test_a_lost_workers_job_is_rerun_not_dropped(tmp_path):
    jobs = [(tmp_path / f"died-{k}", k) for k in range(4)]
    with executing(DASK):
        assert list(parallel_map(die_once, jobs, workers=2)) == [0, 1, 2, 3]
    assert all(marker.exists() for marker, _ in jobs)  # every job killed its worker once and still came back


@CLUSTER
def test_a_job_that_kills_every_worker_is_named(tmp_path):
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), executing(DASK):
        with pytest.raises(LostWorkerError, match="shard 7: every Dask worker that ran it died"):
            list(parallel_map(always_die, [7], workers=2, name=lambda job: f"shard {job}"))


@CLUSTER
def test_a_failing_job_keeps_its_error_and_is_named():
    with executing(DASK), pytest.raises(ValueError, match="job three is bad input") as caught:
        list(parallel_map(fail_on_three, [1, 2, 3, 4], workers=2, name=lambda job: f"shard {job}"))
    assert "raised by shard 3 on a Dask worker" in caught.value.__notes__


def test_unknown_executor_is_refused():
    with executing(ExecutorChoice("spark")), pytest.raises(ValueError, match="executor.kind 'spark'"):
        list(parallel_map(abs, [1]))


def fan_out(mirror, out, workers=2):
    """build -> extract -> tokenize of the first 40 NB201 nets into `out`; every file written, by relative path."""
    build = BuildOutputs(out / "nb201.hdf5", out / "nb201_meta.json", out / "labels.parquet", out / "shapes.parquet")
    build_nb201(mirror, build, "nb201", 40, workers, 7)
    extract(build.h5, build.meta, "nb201", out / "graphs", "report", 15, build.shapes, workers)
    tokenize(out / "graphs", out / "tokens", workers)
    return {p.relative_to(out): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@CLUSTER
def test_fan_out_stages_write_the_same_bytes_on_dask(mirror, tmp_path):
    local = fan_out(mirror, tmp_path / "local")
    with executing(DASK):
        on_dask = fan_out(mirror, tmp_path / "dask")
    assert len(local) > 8 and on_dask.keys() == local.keys()
    assert [name for name in local if on_dask[name] != local[name]] == []


@pytest.mark.integration
def test_a_scheduler_and_workers_in_their_own_processes(mirror, tmp_path):
    """`dask scheduler` and `dask worker` started as separate processes on loopback, as on a cluster."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    address = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--no-dashboard", "--scheduler-file", str(address)], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    workers = None
    try:
        deadline = time.monotonic() + 60
        while not address.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        workers = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                    str(address), "--nworkers", "2", "--nthreads", "1", "--no-dashboard"], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url = json.loads(address.read_text())["address"]
        with distributed.Client(url) as client:
            client.wait_for_workers(2, timeout=60)
        with executing(ExecutorChoice("dask", url)):
            remote = fan_out(mirror, tmp_path / "remote")
            assert list(parallel_map(square, range(5))) == [0, 1, 4, 9, 16]
        local = fan_out(mirror, tmp_path / "local")
        assert remote == local
    finally:
        for process in (workers, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
