"""Does TART gain from a second label per training net, as `gbm_canonical_cifar100` does?
(`python -m benchmarks label-mix [SEEDS]`)

The `train` recipe is fit on the first N NB201 nets (early stopping on the next `split.val_size`) to the mean
normal score of the training label and the same nets' CIFAR-100 accuracy (`tart.baselines.baselines.mixed_label`, ranked
among the training nets, and among the validation nets for early stopping), and scored against the test label.
The single-label fits of the same seeds come from the `tart_grid` stage's report when it ran the same recipe
(CPU fits are deterministic), else they are fit here too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.common import grid_runs, paired_row, paired_summary
from tart.baselines.baselines import mixed_label
from tart.core.parallel import parallel_map
from tart.core.params import Params
from tart.training.tart_grid import fit_and_score, load_worker_tokens, protocol_labels

EXTRA_LABEL = "cifar100_test_acc"


def mixed_column(y: np.ndarray, extra: np.ndarray, n_train: int, val_size: int) -> np.ndarray:
    """The mixed target of the training nets and, separately, of the validation nets (the rest stays 0: unused)."""
    out = np.zeros(len(y))
    for part in (slice(0, n_train), slice(n_train, n_train + val_size)):
        out[part] = mixed_label(y[part], {EXTRA_LABEL: extra[part]}, (EXTRA_LABEL,))
    return out


def label_mix_benchmark(p: Params, sizes: list[int], seeds: list[int], workers: int = 2,
                        grid_report: Path = Path("reports/tart_grid.json")) -> dict:  # fmt: skip
    if p.train.aux_targets:
        raise ValueError("label-mix compares single-head fits: set train.aux_targets to []")
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    cfg = p.train.model_copy(update={"threads": max(1, p.train.threads // workers)})
    known = grid_runs(grid_report, p, sizes, seeds)
    jobs, kinds = [], []
    for n in sizes:
        mixed = mixed_column(y[:, 0], transfer[EXTRA_LABEL], n, p.split.val_size)[:, None]
        for seed in seeds:
            jobs.append((cfg, n, seed, p.split.val_size, mixed, test_y, transfer))
            kinds.append("mixed")
            if (n, seed) not in known:
                jobs.append((cfg, n, seed, p.split.val_size, y, test_y, transfer))
                kinds.append("single")
    runs = [{**r, "target": "single", "from": "tart_grid"} for r in known.values()]
    results = parallel_map(fit_and_score, jobs, workers, load_worker_tokens, (p.paths.tokens, p.train))
    for kind, run in zip(kinds, results):
        runs.append({**run, "target": kind, "from": "this benchmark"})
        print(f"n={run['n_train']} seed={run['seed']} {kind}: tau {run['kendall_tau_b']:.4f}", flush=True)
    tau = {(r["n_train"], r["seed"], r["target"]): r["kendall_tau_b"] for r in runs}
    summary = paired_summary(tau, sizes, seeds, "single", "mixed")
    return {"train_label": p.train.target, "extra_label": EXTRA_LABEL, "test_label": p.evaluate.test_label,
            "seeds": seeds, "threads_per_fit": cfg.threads, "workers": workers, "summary": summary,
            "runs": sorted(runs, key=lambda r: (r["n_train"], r["seed"], r["target"]))}  # fmt: skip


def label_mix_markdown(result: dict) -> str:
    lines = [f"TART fit to `{result['train_label']}` alone and to its mean normal score with "
             f"`{result['extra_label']}` (seeds {result['seeds']}; Kendall tau-b against `{result['test_label']}` "
             "over all nets).", "", "| training nets | single label | mixed with CIFAR-100 | gain per seed |",
             "|---|---|---|---|"]  # fmt: skip
    lines += [paired_row(n, s, ("single", "mixed")) for n, s in result["summary"].items()]
    return "\n".join(lines)
