"""Baselines on the NB201 protocol: parameter count, FLOPs, and classic regressors on cell features (one-hot
edge ops as in the literature; the live ops plus per-path op counts of `tart.cell_paths`; and those of the
representative of the cell's function class (`tart.cell_function`) with path-shape figures and the parameter
count, fit to rank normal scores).

Each predictor is fit on the first N architectures in index order (the NAR-Former protocol) and scored with
Kendall tau-b against the test label over all nets and over the nets it was not fit on, once per seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy import stats

from tart import schemas
from tart.cell_function import representative_cells
from tart.cell_paths import canonical_features, one_hot_ops, path_features
from tart.metrics import TRANSFER_LABELS, kendall_tau_b, score_run, summarize_runs, transfer_scores
from tart.params import Baselines
from tart.spaces.nb201 import NUM_EDGES, OPS, arch_ops, arch_string, count_params
from tart.spaces.nb201_flops import nb201_flops

# Each regressor: (model, feature matrix, whether it is fit to rank normal scores rather than the raw label).
REGRESSORS = {
    "ridge_onehot": ("ridge", "onehot", False),
    "gbm_onehot": ("gbm", "onehot", False),
    "rf_onehot": ("rf", "onehot", False),
    "gbm_paths": ("gbm", "paths", False),
    "rf_paths": ("rf", "paths", False),
    "gbm_canonical": ("gbm_deep", "canonical", True),
    "rf_canonical": ("rf", "canonical", True),
}
PREDICTORS = ("params", "flops", *REGRESSORS)
RANDOMIZED = {name for name, (model, _, _) in REGRESSORS.items() if model != "ridge"}  # the rest: one run


def one_hot_edges(archs: list[str]) -> np.ndarray:
    """(n, 6 * 5) indicator of the op on each of the six cell edges."""
    return one_hot_ops([arch_ops(arch) for arch in archs])


def function_class_features(archs: list[str]) -> np.ndarray:
    """`canonical_features` of each cell's function-class representative (tart.cell_function), then the parameter
    count of the representative's network (dead ops hold weights in the built net but compute nothing): cells that
    compute the same function get the same row."""
    cells = representative_cells([arch_ops(arch) for arch in archs])
    base, per_op = _params_per_edge_op()
    live_params = [[base + sum(per_op[op] for op in ops)] for ops in cells]
    return np.hstack([canonical_features([arch_string(ops) for ops in cells]), np.array(live_params, np.float32)])


@cache
def _params_per_edge_op() -> tuple[int, dict[str, int]]:
    """The parameter count of the net with no cell ops, and what one edge op adds (every edge maps C -> C
    channels, so the count is additive over the six edges; a test checks it against full builds)."""
    base = count_params(arch_string(("none",) * NUM_EDGES))
    return base, {op: count_params(arch_string((op,) + ("none",) * (NUM_EDGES - 1))) - base for op in OPS}


def normal_scores(y: np.ndarray) -> np.ndarray:
    """Ranks mapped to standard normal quantiles (train.py's `rank` target transform): the fit sees the order of
    the labels, not the long tail of near-chance accuracies."""
    return stats.norm.ppf((stats.rankdata(y) - 0.5) / len(y))


def make_regressor(model: str, seed: int, threads: int):
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Ridge

    if model == "ridge":
        return Ridge(alpha=1.0)
    if model == "gbm":
        # These settings reproduce the reference numbers in DOMAIN.md section 6 (0.680 / 0.725).
        return GradientBoostingRegressor(n_estimators=500, max_depth=4, learning_rate=0.05, subsample=0.8,
                                         random_state=seed)  # fmt: skip
    if model == "gbm_deep":
        # The pick of `python -m tart.benchmarks gbm-grid`: best validation tau (the 200 nets after the training
        # ones, summed over 5% and 10%) of depth 4 / 6 / 8, leaf size 1 / 5 / 10, rate 0.05 / 0.02, features 1 / 0.5.
        return GradientBoostingRegressor(n_estimators=1250, max_depth=6, min_samples_leaf=5, learning_rate=0.02,
                                         subsample=0.8, max_features=0.5, random_state=seed)  # fmt: skip
    return RandomForestRegressor(n_estimators=300, random_state=seed, n_jobs=threads)


def fit_predict(name: str, inputs: dict[str, np.ndarray], train_y: np.ndarray, n_train: int, seed: int,
                threads: int = 1) -> np.ndarray:  # fmt: skip
    """Scores for all nets (higher = predicted better); `train_y` labels the first `n_train` nets. `inputs` holds
    the per-net "params" and "flops" and the feature matrices of `REGRESSORS`, computed once for every fit."""
    if name in ("params", "flops"):
        return inputs[name].astype(np.float64)
    model_name, features, rank_target = REGRESSORS[name]
    target = normal_scores(train_y[:n_train]) if rank_target else train_y[:n_train]
    model = make_regressor(model_name, seed, threads)
    model.fit(inputs[features][:n_train], target)
    return model.predict(inputs[features])


def run_baselines(archs: list[str], params: np.ndarray, train_label: np.ndarray, test_label: np.ndarray,
                  predictors: list[str], train_sizes: list[int], seeds: list[int], threads: int = 1,
                  progress: Callable[[str], None] | None = None,
                  transfer: dict[str, np.ndarray] | None = None) -> list[dict]:  # fmt: skip
    """One row per (predictor, train size, seed): Kendall tau-b and Spearman rho, all nets and remainder, and
    the same predictions ranked against each `transfer` label."""
    unknown = [name for name in predictors if name not in PREDICTORS]
    if unknown:
        raise ValueError(f"unknown baseline {unknown[0]!r}; expected one of {PREDICTORS}")
    inputs = {"params": params, "onehot": one_hot_edges(archs)}
    if "flops" in predictors:
        inputs["flops"] = nb201_flops(archs)
    if any(name.endswith("_paths") for name in predictors):
        inputs["paths"] = path_features(archs)
    if any(name.endswith("_canonical") for name in predictors):
        inputs["canonical"] = function_class_features(archs)
    rows = []
    for name in predictors:
        for n_train in train_sizes:
            if not 0 < n_train < len(archs):
                raise ValueError(f"train size {n_train}: expected between 1 and {len(archs) - 1}")
            for seed in seeds if name in RANDOMIZED else seeds[:1]:
                start = time.perf_counter()
                scores = fit_predict(name, inputs, train_label, n_train, seed, threads)
                seconds = time.perf_counter() - start
                rows.append({"predictor": name, "n_train": n_train, "seed": seed, "fit_seconds": round(seconds, 3),
                             **score_run(scores, test_label, n_train, transfer or {})})  # fmt: skip
                if progress:
                    progress(f"{name} n={n_train} seed={seed}: tau {rows[-1]['kendall_tau_b']:.4f}")
    return rows


def baselines_from_files(labels_path: Path, target: str, test_label: str, cfg: Baselines, out_path: Path,
                         progress: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    """The `baselines` stage: every configured predictor on the label table, summary + raw runs as JSON."""
    names = ["net", "arch", "params", target, test_label, *TRANSFER_LABELS]
    table = pq.read_table(labels_path, columns=list(dict.fromkeys(names))).sort_by("net")
    columns = table.to_pydict()
    transfer = {label: np.array(columns[label]) for label in TRANSFER_LABELS}
    train_y, test_y = np.array(columns[target]), np.array(columns[test_label])
    report_rows = run_baselines(
        columns["arch"], np.array(columns["params"]), train_y, test_y,
        list(cfg.predictors), list(cfg.train_sizes), list(cfg.seeds), cfg.threads, progress, transfer,
    )  # fmt: skip
    # The ceiling: the training label itself used as the prediction (no model can reproduce it better).
    ceiling = {"kendall_tau_b": kendall_tau_b(train_y, test_y), **transfer_scores(train_y, transfer)}
    report = {"train_label": target, "test_label": test_label, "n_nets": table.num_rows, "label_ceiling": ceiling,
              "baselines": summarize_runs(report_rows), "runs": report_rows}  # fmt: skip
    schemas.write_json(report, out_path)
    return report
