"""Generated graphs end to end on the Dask executor: `python -m benchmarks dask-scaling [NETSxWORKERS,...]`.

Each run (a net count on a worker count, e.g. `100000x1,100000x2,1000000x2`) starts a `LocalCluster` of that many
single-threaded worker processes and times, on it, `tart generate`'s work (NETS unique nets in shards of at most
10,000), `extract` of the shards as one split (`extract_files`: each shard read whole by one worker, no merged copy,
the graphs a merge would give) and `tokenize`; graphs/s per phase and in all; the peak resident memory of each worker
process (its own high-water mark, read on the worker at the end). Runs of one net count on several worker counts give
the speed-up. A million nets takes over an hour on two cores and ~45 GB of disk (the table gives the shards' size);
the tests run a few dozen. Each finished run is kept in `.tart/dask_scaling_runs.json` until the whole plan is done,
so a rerun of an interrupted plan redoes only the runs it lacks.

The cluster projection is arithmetic on the run with the most nets: every phase is a map over the shards, so W
workers take ceil(shards / W) rounds of the time one worker spends on one shard there.
"""

from __future__ import annotations

import json
import math
import resource
import tempfile
import time
from pathlib import Path

from tart.core.parallel import ExecutorChoice, executing
from tart.io.extract import extract_files
from tart.spaces.darts.generate import generate, shard_paths
from tart.tokens.tokenize import tokenize

FINISHED_RUNS = Path(".tart/dask_scaling_runs.json")  # runs of an unfinished plan (ignored by git)


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
        shards = shard_paths(work / "shards", "train")
        start = time.perf_counter()
        extract_files(shards, "train", work / "graphs", "report", workers)
        seconds["extract"] = time.perf_counter() - start
        start = time.perf_counter()
        tokenize(work / "graphs", work / "tokens", workers)
        seconds["tokenize"] = time.perf_counter() - start
        worker_peaks = sorted(client.run(_peak_rss_gb).values())
    total, size = sum(seconds.values()), sum(h5.stat().st_size + meta.stat().st_size for h5, meta in shards)
    return {"workers": workers, "nets": nets, "shards": len(shards),
            "seconds": {k: round(v, 1) for k, v in seconds.items()},
            "total_seconds": round(total, 1), "graphs_per_second": round(nets / total, 1),
            "phase_graphs_per_second": {k: round(nets / v, 1) for k, v in seconds.items()},
            "worker_peak_rss_gb": [round(g, 3) for g in worker_peaks],
            "shards_gb": round(size / 1e9, 3)}  # fmt: skip


def projection(run: dict, workers: int) -> dict:
    """Seconds for the same nets on `workers` workers: every phase is a map over the shards, so ceil(shards /
    workers) rounds of one shard's time on one worker (the run's seconds x its workers / its shards)."""
    total = math.ceil(run["shards"] / workers) * run["total_seconds"] * run["workers"] / run["shards"]
    return {"workers": workers, "seconds": round(total, 1), "graphs_per_second": round(run["nets"] / total, 1)}


def parse_runs(text: str) -> list[tuple[int, int]]:
    """Pairs (nets, workers) from "NETSxWORKERS,..." (e.g. "100000x1,100000x2,1000000x2")."""
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
    """One end-to-end run per (nets, workers) of `plan`, in order, each in a scratch directory under the working
    directory; the projection starts from the run with the most nets (the most workers among those)."""
    finished = json.loads(FINISHED_RUNS.read_text()) if FINISHED_RUNS.is_file() else []
    runs = []
    for nets, workers in plan:
        done = next((r for r in finished if (r["nets"], r["workers"]) == (nets, workers)), None)
        if done is None:
            with tempfile.TemporaryDirectory(dir=".") as tmp:
                done = end_to_end(nets, workers, Path(tmp))
            finished.append(done)
            FINISHED_RUNS.parent.mkdir(exist_ok=True)
            FINISHED_RUNS.write_text(json.dumps(finished, indent=2))
        runs.append(done)
        print(f"{nets:,} nets on {workers} workers: {done['total_seconds']:,.0f} s, "
              f"{done['graphs_per_second']:,.0f} graphs/s", flush=True)  # fmt: skip
    FINISHED_RUNS.unlink(missing_ok=True)
    largest = max(runs, key=lambda r: (r["nets"], r["workers"]))
    return {"runs": runs, "speedups": speedups(runs), "projected_from": {"nets": largest["nets"],
            "workers": largest["workers"]}, "projection": [projection(largest, w) for w in (8, 32, 128)]}  # fmt: skip


def dask_scaling_markdown(r: dict) -> str:
    lines = ["Generated nets: generate -> extract -> tokenize on a Dask LocalCluster.", "",
             "| nets | shards | workers | generate (s) | extract (s) | tokenize (s) | total (s) | graphs/s | "
             "worker peak RSS (GB) | shards (GB) |", "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]  # fmt: skip
    for run in r["runs"]:
        s = run["seconds"]
        peaks = ", ".join(f"{g:.2f}" for g in run["worker_peak_rss_gb"])
        lines.append(f"| {run['nets']:,} | {run['shards']:,} | {run['workers']} | {s['generate']:,.0f} | "
                     f"{s['extract']:,.0f} | {s['tokenize']:,.0f} | {run['total_seconds']:,.0f} | "
                     f"{run['graphs_per_second']:,.0f} | {peaks} | {run['shards_gb']:.2f} |")  # fmt: skip
    for up in r["speedups"]:
        lines += ["", f"{up['nets']:,} nets, {up['from_workers']} -> {up['to_workers']} workers: "
                  f"{up['speedup']:.2f}x."]  # fmt: skip
    base = next(run for run in r["runs"] if (run["nets"], run["workers"]) == tuple(r["projected_from"].values()))
    per_shard = base["total_seconds"] * base["workers"] / base["shards"]
    lines += ["", f"Projection for {base['nets']:,} nets on W workers: ceil({base['shards']:,} shards / W) rounds of "
              f"{per_shard:,.1f} s (one shard end to end on one worker: {base['total_seconds']:,.0f} s x "
              f"{base['workers']} worker(s) / {base['shards']:,} shards): "
              + "; ".join(f"{p['workers']} workers {p['seconds']:,.0f} s ({p['graphs_per_second']:,.0f} graphs/s)"
                          for p in r["projection"]) + "."]  # fmt: skip
    return "\n".join(lines) + "\n"
