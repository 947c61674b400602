"""TART and `gbm_canonical` with more labelled nets than the protocol's 5% and 10%.
(`python -m benchmarks learning-curve [SIZES [SEEDS]]`)

Is TART's gap to the hand-made function-class features one of data efficiency (it closes with more labels) or a
ceiling (it stays)? Both are fit on the first N nets by index with the pipeline's recipes (TART early-stopping on
the next `split.val_size`, as in `tart_grid`) and scored against the test label over all nets and over those not
fit on. The protocol sizes come from the `tart_grid` and `baselines` reports when they ran the same recipes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from benchmarks.common import grid_runs
from tart.baselines.baselines import fit_predict, function_class_features
from tart.core.metrics import score_run, summarize_runs, without_predictions
from tart.core.parallel import parallel_map
from tart.core.params import Params
from tart.spaces.nb201.cell_function import function_classes
from tart.training.tart_grid import class_mean_runs, fit_score_predict, load_worker_tokens, protocol_labels

PREDICTORS = ("tart", "tart_function", "gbm_canonical")
PROTOCOL_SIZES = (781, 1563)


def gbm_runs(archs: list[str], train_y: np.ndarray, test_y: np.ndarray, transfer: dict, sizes: list[int],
             seeds: list[int], threads: int) -> list[dict]:  # fmt: skip
    inputs = {"canonical": function_class_features(archs)}
    runs = []
    for n in sizes:
        for seed in seeds:
            start = time.perf_counter()
            pred = fit_predict("gbm_canonical", inputs, train_y, n, seed, threads)
            seconds = round(time.perf_counter() - start, 1)
            runs.append({"predictor": "gbm_canonical", "n_train": n, "seed": seed, "fit_seconds": seconds,
                         **score_run(pred, test_y, n, transfer)})  # fmt: skip
    return runs


def protocol_runs(p: Params, grid_report: Path, baselines_report: Path) -> list[dict]:
    """The protocol sizes' fits of the three predictors from the stage reports (all their seeds), where they match
    this recipe."""
    sizes, seeds = list(PROTOCOL_SIZES), p.tart_grid.seeds
    runs = [{**r, "from": "tart_grid"} for name in PREDICTORS[:2]
            for r in grid_runs(grid_report, p, sizes, seeds, name).values()]  # fmt: skip
    if baselines_report.exists():
        report = json.loads(baselines_report.read_text())
        if (report.get("train_label"), report.get("test_label")) == (p.train.target, p.evaluate.test_label):
            runs += [{**r, "from": "baselines"} for r in report["runs"] if r["predictor"] == "gbm_canonical"
                     and r["n_train"] in PROTOCOL_SIZES]  # fmt: skip
    return runs


def learning_curve_benchmark(p: Params, sizes: list[int], seeds: list[int], workers: int = 1,
                             grid_report: Path = Path("reports/tart_grid.json"),
                             baselines_report: Path = Path("reports/baselines.json")) -> dict:  # fmt: skip
    y, test_y, transfer = protocol_labels(p.paths.labels, p.train, p.evaluate.test_label)
    for n in sizes:
        if not 0 < n or n + p.split.val_size >= len(test_y):
            raise ValueError(f"learning-curve size {n}: expected 1 .. {len(test_y) - p.split.val_size - 1} "
                             f"(the next {p.split.val_size} nets validate)")  # fmt: skip
    archs = pq.read_table(p.paths.labels, columns=["net", "arch"]).sort_by("net")["arch"].to_pylist()
    cfg = p.train.model_copy(update={"threads": max(1, p.train.threads // workers)})
    jobs = [(cfg, n, seed, p.split.val_size, y, test_y, transfer) for n in sizes for seed in seeds]
    fitted = []
    for run in parallel_map(fit_score_predict, jobs, workers, load_worker_tokens, (p.paths.tokens, p.train)):
        fitted.append(run)
        print(f"tart n={run['n_train']} seed={run['seed']}: tau {run['kendall_tau_b']:.4f} "
              f"({run['fit_seconds']:.0f} s)", flush=True)  # fmt: skip
    fitted += class_mean_runs(fitted, {"function": function_classes(archs)}, test_y, transfer)
    runs = without_predictions(fitted)
    runs += gbm_runs(archs, y[:, 0], test_y, transfer, sizes, seeds, p.baselines.threads)
    runs = [{**r, "from": "this benchmark"} for r in runs] + protocol_runs(p, grid_report, baselines_report)
    return {"train_label": p.train.target, "test_label": p.evaluate.test_label, "n_nets": len(test_y),
            "sizes": sizes, "seeds": seeds, "threads_per_fit": cfg.threads, "workers": workers,
            "summary": summarize_runs(runs),
            "runs": sorted(runs, key=lambda r: (r["n_train"], r["predictor"], r["seed"]))}  # fmt: skip


def learning_curve_markdown(result: dict) -> str:
    lines = [
        f"Kendall tau-b against `{result['test_label']}` over all {result['n_nets']:,} nets (in brackets: over the "
        f"nets not fit on), fit on the first N nets; mean ± std over the seeds run (count after the numbers). Sizes "
        f"{', '.join(str(n) for n in result['sizes'])}: this benchmark, seeds {result['seeds']}; 781 and 1563: the "
        "`tart_grid` and `baselines` stages.",
        "",
        "| training nets | TART | TART, function-class mean | gbm_canonical |",
        "|---|---|---|---|",
    ]
    summary = result["summary"]
    for n in sorted({n for by_size in summary.values() for n in by_size}, key=int):
        cells = []
        for name in PREDICTORS:
            s = summary.get(name, {}).get(n)
            if s is None:
                cells.append("-")
                continue
            spread = f" ± {s['kendall_tau_b_std']:.4f}" if s["seeds"] > 1 else ""
            cells.append(f"{s['kendall_tau_b']:.4f}{spread} ({s['kendall_tau_b_remainder']:.4f}), {s['seeds']}")
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
