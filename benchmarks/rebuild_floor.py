"""How fast the full rebuild can be on this machine without changing a recipe: `python -m benchmarks rebuild-floor`.

The four training stages are almost all optimiser steps, and a step's cost is arithmetic on a small model (no data
loading, no padding to speak of on NB201 cells). So their floor is (optimiser steps the params ask for) x (measured
seconds per step) / (fits running at once), with each fit on its share of the cores exactly as the stage runs it.
Seconds per step come from the stage's own fit function, run for a few epochs at the largest training size (the
epoch's one validation included, so the figure slightly overstates a step). The other stages add what their last run
here took (reports/provenance/, written by every stage), where there is one.

What the floor leaves out (stage start-up, validation every few epochs, the smaller fits' fixed costs) only adds
time, so a floor above the target means the target needs a cheaper recipe, not a faster loop.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import pyarrow.parquet as pq

from tart.core.params import Params, Train
from tart.core.provenance import cpu_model, last_seconds
from tart.tokens.token_set import load_tokens, rows_of
from tart.training import narformer, tgnas
from tart.training.cell_models import CellData, fit_cell_model
from tart.training.distill import pseudo_nets
from tart.training.tart_grid import unlabelled_nets
from tart.training.train import fit

OTHER_STAGES = ("fetch", "build", "extract", "tokenize", "split", "evaluate", "package", "baselines", "proxies",
                "figures")  # fmt: skip
TARGET_SECONDS = 45 * 60


def stage_steps(p: Params) -> dict[str, dict]:
    """Per training stage: optimiser steps in all, the training size timed, batch size, epochs, fits at once."""
    plans = {}
    for name in ("narformer", "tgnas"):
        s = getattr(p, name)
        per_fit = [s.epochs * math.ceil(n / s.batch_size) for n in s.train_sizes]
        plans[name] = {"steps": len(s.cell_inputs) * len(s.seeds) * sum(per_fit), "fits": len(s.cell_inputs)
                       * len(s.seeds) * len(s.train_sizes), "workers": s.workers, "n_timed": max(s.train_sizes),
                       "epochs": s.epochs, "batch_size": s.batch_size}  # fmt: skip
    t, g = p.train, p.tart_grid
    n_nets = pq.read_metadata(p.paths.labels).num_rows
    recipes = {n: g.recipe(t, n) for n in g.train_sizes}
    grid_steps = len(g.seeds) * sum(tart_fit_steps(r, n, p.split.val_size, n_nets) for n, r in recipes.items())
    plans["tart_grid"] = {"steps": grid_steps, "fits": len(g.seeds) * len(g.train_sizes), "workers": g.workers,
                          "n_timed": max(g.train_sizes), "epochs": {n: r.epochs for n, r in recipes.items()},
                          "batch_size": t.batch_size}  # fmt: skip
    plans["train"] = {"steps": t.epochs * math.ceil(p.split.train_size / t.batch_size), "fits": 1, "workers": 1,
                      "n_timed": p.split.train_size, "epochs": t.epochs, "batch_size": t.batch_size}  # fmt: skip
    return plans


def tart_fit_steps(recipe: Train, n_train: int, val_size: int, n_nets: int) -> int:
    """Optimiser steps of one grid fit: a taught recipe's epochs also pass over the unlabelled nets it is given,
    which at 5% and 10% outnumber the training nets ten to twenty times."""
    nets = n_train
    if recipe.teacher != "none":
        nets += len(pseudo_nets(unlabelled_nets(n_train, val_size, n_nets), recipe.unlabelled, recipe.seed))
    return recipe.epochs * math.ceil(nets / recipe.batch_size)


def seconds_per_step(p: Params, stage: str, n_train: int, epochs: int) -> float:
    """One fit of `stage`'s recipe on `n_train` nets for `epochs` epochs, on the threads one of its fits gets."""
    labels = pq.read_table(p.paths.labels, columns=["net", "arch", p.train.target]).sort_by("net").to_pydict()
    y = np.asarray(labels[p.train.target], dtype=float)
    rows, val = np.arange(n_train), np.arange(n_train, n_train + p.split.val_size)
    if stage in ("narformer", "tgnas"):
        section = getattr(p, stage)
        recipe, make_model, _ = (narformer if stage == "narformer" else tgnas).model_factory(section)
        threads = max(1, recipe.threads // recipe.workers)
        cfg = dataclasses.replace(recipe, epochs=epochs, eval_every=epochs, threads=threads, device="cpu")
        data = CellData.from_archs(labels["arch"], "raw")
        start = time.perf_counter()
        fit_cell_model(cfg, make_model, data, rows, y[rows], val, y[val], desc=f"time {stage}")
        return (time.perf_counter() - start) / (epochs * math.ceil(n_train / cfg.batch_size))
    workers = p.tart_grid.workers if stage == "tart_grid" else 1
    cfg = p.train.model_copy(update={"epochs": epochs, "threads": max(1, p.train.threads // workers),
                                     "device": "cpu"})  # fmt: skip
    ts = load_tokens(p.paths.tokens, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)
    token_rows = rows_of(ts, np.arange(len(y)))
    start = time.perf_counter()
    fit(cfg, ts, token_rows[rows], y[rows], token_rows[val], y[val])
    return (time.perf_counter() - start) / (epochs * math.ceil(n_train / cfg.batch_size))


def last_run_seconds(p: Params, stage: str) -> float | None:
    """What a training stage's last run here took; the grid's is the sum of its size stages (`tart_grid_fits@N`),
    unknown until each has run here."""
    provenance = p.paths.reports / "provenance"
    if stage != "tart_grid":
        return last_seconds(stage, provenance)
    sizes = [last_seconds(f"tart_grid_fits@{n}", provenance) for n in p.tart_grid.train_sizes]
    return None if None in sizes else sum(sizes)


def rebuild_floor(p: Params, epochs: int = 3) -> dict:
    stages = {}
    for stage, plan in stage_steps(p).items():
        step = seconds_per_step(p, stage, plan["n_timed"], epochs)
        floor = plan["steps"] * step / plan["workers"]
        stages[stage] = {**plan, "seconds_per_step": step, "floor_seconds": round(floor, 1),
                         "last_run_seconds": last_run_seconds(p, stage)}  # fmt: skip
        print(f"{stage}: {plan['steps']:,} steps x {1000 * step:.1f} ms / {plan['workers']} at once = "
              f"{floor:,.0f} s", flush=True)  # fmt: skip
    others = {stage: last_seconds(stage, p.paths.reports / "provenance") for stage in OTHER_STAGES}
    training = sum(s["floor_seconds"] for s in stages.values())
    measured_others = sum(v for v in others.values() if v is not None)
    total = training + measured_others
    return {"cpu": cpu_model(), "epochs_timed": epochs, "training_stages": stages, "other_stages_last_run": others,
            "other_stages_missing": [k for k, v in others.items() if v is None],
            "training_floor_seconds": round(training, 1), "floor_seconds": round(total, 1),
            "target_seconds": TARGET_SECONDS, "floor_over_target": round(total / TARGET_SECONDS, 2)}  # fmt: skip


def rebuild_floor_markdown(result: dict) -> str:
    lines = [f"Full-rebuild floor on {result['cpu']} with the current recipes (seconds per step timed over "
             f"{result['epochs_timed']} epochs of the largest training size).", "",
             "| stage | optimiser steps | fits | at once | ms per step | floor (s) | last run (s) |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for stage, s in result["training_stages"].items():
        last = "-" if s["last_run_seconds"] is None else f"{s['last_run_seconds']:,.0f}"
        lines.append(f"| {stage} | {s['steps']:,} | {s['fits']} | {s['workers']} | {1000 * s['seconds_per_step']:.1f} "
                     f"| {s['floor_seconds']:,.0f} | {last} |")  # fmt: skip
    others = {k: v for k, v in result["other_stages_last_run"].items() if v is not None}
    missing = result["other_stages_missing"]
    lines += ["", f"Training stages' floor: {result['training_floor_seconds']:,.0f} s; the other stages' last runs: "
              f"{sum(others.values()):,.0f} s ({', '.join(f'{k} {v:,.0f}' for k, v in others.items()) or 'none'}"
              f"{'; not run here: ' + ', '.join(missing) if missing else ''})."
              f" Floor of the whole rebuild: {result['floor_seconds']:,.0f} s, {result['floor_over_target']:.2f}x "
              f"the {result['target_seconds'] // 60}-minute target."]  # fmt: skip
    return "\n".join(lines) + "\n"
