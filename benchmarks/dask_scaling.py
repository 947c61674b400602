"""Generated graphs end to end on the Dask executor: `python -m benchmarks dask-scaling [NETSxWORKERS,...]`.

Each run (a net count on a worker count, e.g. `100000x1,100000x2,1000000x2`) starts a `LocalCluster` of that many
single-threaded worker processes and times, on it, `tart generate`'s work (NETS unique nets in shards), the merge
into one published-layout file (serial, here; each shard deleted once copied, as `tart generate --merge
--delete-shards` does), `extract` and `tokenize`; graphs/s per phase and in all; the peak resident memory of each
worker process (its own high-water mark, read on the worker at the end). Runs of one net count on several worker
counts give the speed-up. The default, 1,000,000 unique nets on 1 and on 2 workers, takes hours on two cores and tens
of GB of disk at a time (the table gives the merged file's size); the tests run a few dozen.

The cluster projection is arithmetic on the measured rates of the run with the most nets: the parallel phases scale
with workers (at that run's per-worker rate), the merge does not.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from tart.core.parallel import ExecutorChoice, executing
from tart.io.extract import extract
from tart.spaces.darts.generate import generate, merge_shards
from tart.tokens.tokenize import tokenize

PHASES = ("generate", "merge", "extract", "tokenize")
PARALLEL_PHASES = ("generate", "extract", "tokenize")


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # ru_maxrss is in KiB on Linux


def end_to_end(nets: int, workers: int, work: Path) -> dict:
    """One run on a fresh LocalCluster of `workers` processes; seconds per phase, rates, worker memory."""
    from distributed import Client, LocalCluster

    shard_size = max(1, min(10_000, nets // (4 * workers)))
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client, executing(ExecutorChoice("dask", cluster.scheduler_address)):  # fmt: skip
        seconds = {}
        start = time.perf_counter()
        generate(work / "shards", "train", nets, seed=1, shard_size=shard_size, workers=workers)
        seconds["generate"] = time.perf_counter() - start
        h5, meta = work / "deepnets1m_train.hdf5", work / "deepnets1m_train_meta.json"
        start = time.perf_counter()
        merge_shards(work / "shards", "train", h5, meta, delete_shards=True)  # one copy of the nets on disk
        seconds["merge"] = time.perf_counter() - start
        start = time.perf_counter()
        extract(h5, meta, "train", work / "graphs", "report", max(1, nets // (4 * workers)), None, workers)
        seconds["extract"] = time.perf_counter() - start
        start = time.perf_counter()
        tokenize(work / "graphs", work / "tokens", workers)
        seconds["tokenize"] = time.perf_counter() - start
        worker_peaks = sorted(client.run(_peak_rss_gb).values())
    total = sum(seconds.values())
    return {"workers": workers, "nets": nets, "seconds": {k: round(v, 1) for k, v in seconds.items()},
            "total_seconds": round(total, 1), "graphs_per_second": round(nets / total, 1),
            "phase_graphs_per_second": {k: round(nets / v, 1) for k, v in seconds.items()},
            "worker_peak_rss_gb": [round(g, 3) for g in worker_peaks],
            "file_gb": round((h5.stat().st_size + meta.stat().st_size) / 1e9, 3)}  # fmt: skip


def projection(run: dict, workers: int) -> dict:
    """Seconds for the same nets on `workers` workers: the parallel phases at the run's per-worker rate, the merge
    as measured (it is serial)."""
    parallel = sum(run["seconds"][p] for p in PARALLEL_PHASES) * run["workers"] / workers
    total = parallel + run["seconds"]["merge"]
    return {"workers": workers, "seconds": round(total, 1), "graphs_per_second": round(run["nets"] / total, 1)}


def parse_runs(text: str) -> list[tuple[int, int]]:
    """"NETSxWORKERS,..." (e.g. "100000x1,100000x2,1000000x2") as (nets, workers) pairs."""
    runs = []
    for item in text.split(","):
        nets, sep, workers = item.strip().partition("x")
        if not (sep and nets.isdigit() and workers.isdigit() and int(nets) > 0 and int(workers) > 0):
            raise ValueError(f"dask-scaling run {item!r}: expected NETSxWORKERS with positive whole numbers, "
                             "e.g. 100000x2")  # fmt: skip
        runs.append((int(nets), int(workers)))
    return runs


def speedups(runs: list[dict]) -> list[dict]:
    """Per net count run on several worker counts: the fewest workers' time over each larger count's."""
    out = []
    for nets in dict.fromkeys(r["nets"] for r in runs):
        group = sorted((r for r in runs if r["nets"] == nets), key=lambda r: r["workers"])
        out += [{"nets": nets, "from_workers": group[0]["workers"], "to_workers": r["workers"],
                 "speedup": round(group[0]["total_seconds"] / r["total_seconds"], 2)} for r in group[1:]]  # fmt: skip
    return out


def dask_scaling_benchmark(plan: list[tuple[int, int]] = ((1_000_000, 1), (1_000_000, 2))) -> dict:
    """One end-to-end run per (nets, workers) of `plan`, in order; the projection starts from the run with the most
    nets (the most workers among those)."""
    runs = []
    for nets, workers in plan:
        with tempfile.TemporaryDirectory(dir=".") as tmp:
            runs.append(end_to_end(nets, workers, Path(tmp)))
        print(f"{nets:,} nets on {workers} workers: {runs[-1]['total_seconds']:,.0f} s, "
              f"{runs[-1]['graphs_per_second']:,.0f} graphs/s", flush=True)  # fmt: skip
    largest = max(runs, key=lambda r: (r["nets"], r["workers"]))
    return {"runs": runs, "speedups": speedups(runs), "projected_from": {"nets": largest["nets"],
            "workers": largest["workers"]}, "projection": [projection(largest, w) for w in (8, 32, 128)]}  # fmt: skip


def dask_scaling_markdown(r: dict) -> str:
    lines = ["Generated nets: generate -> merge -> extract -> tokenize on a Dask LocalCluster.", "",
             "| nets | workers | generate (s) | merge (s) | extract (s) | tokenize (s) | total (s) | graphs/s | "
             "worker peak RSS (GB) | file (GB) |", "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]  # fmt: skip
    for run in r["runs"]:
        s = run["seconds"]
        peaks = ", ".join(f"{g:.2f}" for g in run["worker_peak_rss_gb"])
        lines.append(f"| {run['nets']:,} | {run['workers']} | {s['generate']:,.0f} | {s['merge']:,.0f} | "
                     f"{s['extract']:,.0f} | {s['tokenize']:,.0f} | {run['total_seconds']:,.0f} | "
                     f"{run['graphs_per_second']:,.0f} | {peaks} | {run['file_gb']:.2f} |")  # fmt: skip
    for up in r["speedups"]:
        lines += ["", f"{up['nets']:,} nets, {up['from_workers']} -> {up['to_workers']} workers: "
                  f"{up['speedup']:.2f}x."]  # fmt: skip
    base = next(run for run in r["runs"] if (run["nets"], run["workers"]) == tuple(r["projected_from"].values()))
    parallel = sum(base["seconds"][p] for p in PARALLEL_PHASES)
    lines += ["", f"Projection for {base['nets']:,} nets (the parallel phases' {parallel:,.0f} s x {base['workers']} "
              f"worker(s) / W, plus the serial merge's {base['seconds']['merge']:,.0f} s): "
              + "; ".join(f"{p['workers']} workers {p['seconds']:,.0f} s ({p['graphs_per_second']:,.0f} graphs/s)"
                          for p in r["projection"]) + "."]  # fmt: skip
    return "\n".join(lines) + "\n"
