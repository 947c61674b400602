"""Whether the cell-model stages should run fits side by side: the same fits (1563 training nets, raw cells, a few
seeds, epochs cut short) one after the other on `threads` threads and `workers` at a time on `threads // workers`
threads each, alternating in rounds so that a machine growing busier or quieter affects both alike.

The ratio (serial wall seconds / side-by-side wall seconds) above 1 is the throughput gained by `workers` > 1; the
`narformer` and `tgnas` params' `workers` follow it.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import numpy as np
import pyarrow.parquet as pq
import torch

from tart.core.parallel import parallel_map
from tart.training import narformer, tgnas
from tart.training.cell_models import FitConfig, fit_and_predict, load_fit_context


def model_factories(p) -> dict:
    """The stage's fit settings and a picklable model factory, per cell-model predictor."""
    return {name: module.model_factory(section)[:2]
            for name, module, section in (("narformer", narformer, p.narformer), ("tgnas", tgnas, p.tgnas))}


def timed_fits(fit: FitConfig, make_model, archs: list[str], y: np.ndarray, n_train: int, val_size: int,
               seeds: list[int], workers: int) -> float:  # fmt: skip
    """Wall seconds of one fit per seed, `workers` at a time, the threads split among them."""
    threads = max(1, fit.threads // workers)
    jobs = [(dataclasses.replace(fit, seed=s, threads=threads), "raw", n_train, f"fit {workers}x{threads}")
            for s in seeds]  # fmt: skip
    start = time.perf_counter()
    list(parallel_map(fit_and_predict, jobs, workers, load_fit_context, (make_model, archs, ("raw",), y, val_size)))
    return time.perf_counter() - start


def cell_workers_benchmark(
    p, fits: int = 4, epochs: int = 20, rounds: int = 2, workers: int = 2, n_train: int = 1563
) -> dict:
    table = pq.read_table(p.paths.labels, columns=["net", "arch", p.train.target]).sort_by("net").to_pydict()
    archs, y = table["arch"], np.array(table[p.train.target])
    if n_train + p.split.val_size >= len(y):
        raise ValueError(f"cell-workers: {n_train} training + {p.split.val_size} validation nets: only {len(y)} nets")
    seeds = list(range(fits))
    result: dict = {"n_train": n_train, "fits": fits, "epochs": epochs, "rounds": rounds, "workers": workers,
                    "torch": torch.__version__, "predictors": {}}  # fmt: skip
    for name, (fit, make_model) in model_factories(p).items():
        fit = dataclasses.replace(fit, epochs=epochs, eval_every=min(fit.eval_every, epochs), device="cpu")
        walls: dict[str, list[float]] = {"serial": [], "side_by_side": []}
        for _ in range(rounds):
            walls["serial"].append(timed_fits(fit, make_model, archs, y, n_train, p.split.val_size, seeds, 1))
            walls["side_by_side"].append(
                timed_fits(fit, make_model, archs, y, n_train, p.split.val_size, seeds, workers)
            )
        serial, side = statistics.median(walls["serial"]), statistics.median(walls["side_by_side"])
        result["predictors"][name] = {"threads": fit.threads, "stage_workers": getattr(p, name).workers,
                                      "wall_seconds": walls, "median_serial": round(serial, 1),
                                      "median_side_by_side": round(side, 1),
                                      "speedup": round(serial / side, 2)}  # fmt: skip
    return result


def cell_workers_markdown(result: dict) -> str:
    lines = ["| predictor | serial (s) | side by side (s) | speedup | stage `workers` |", "|---|---|---|---|---|"]
    for name, r in result["predictors"].items():
        lines.append(f"| {name} | {r['median_serial']} | {r['median_side_by_side']} | {r['speedup']:.2f}x | "
                     f"{r['stage_workers']} |")  # fmt: skip
    return (
        f"{result['fits']} fits of {result['epochs']} epochs at {result['n_train']} training nets, one after the other "
        f"on {next(iter(result['predictors'].values()))['threads']} threads vs {result['workers']} at a time on the "
        f"threads split among them; median wall seconds of {result['rounds']} alternating rounds, torch "
        f"{result['torch']} (the CPU model: `machine` in the JSON).\n\n" + "\n".join(lines)
    )
