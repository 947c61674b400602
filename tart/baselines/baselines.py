"""Baselines on the NB201 protocol: parameter count, FLOPs, and classic regressors on cell features (one-hot
edge ops as in the literature; the live ops plus per-path op counts of `tart.spaces.nb201.cell_paths`; and those of the
representative of the cell's function class (`tart.spaces.nb201.cell_function`) with path-shape figures and the
parameter count, fit to rank normal scores, alone or averaged with the same nets' CIFAR-100 label).

Each predictor is fit on the first N architectures in index order (the NAR-Former protocol) and scored with
Kendall tau-b against the test label over all nets and over the nets it was not fit on, once per seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow.parquet as pq
from scipy import stats

from tart.core import files
from tart.core.metrics import TRANSFER_LABELS, kendall_tau_b, score_run, summarize_runs, transfer_scores
from tart.core.params import Baselines
from tart.spaces.nb201.cell_function import representative_cells
from tart.spaces.nb201.cell_paths import canonical_features, one_hot_ops, path_features
from tart.spaces.nb201.flops import COUNTS as FLOPS_COUNTS
from tart.spaces.nb201.flops import nb201_flops
from tart.spaces.nb201.network import NUM_EDGES, OPS, arch_ops, arch_string, count_params


class Regressor(NamedTuple):
    model: str  # make_regressor's name
    features: str  # the feature matrix it reads
    rank_target: bool  # fit to rank normal scores rather than the raw label
    # Labels of the same training nets on other datasets, averaged (as normal scores) with the training label:
    # each net's training noise partly averages out, at the cost of training every labelled net once more.
    extra_labels: tuple[str, ...] = ()


REGRESSORS = {
    "ridge_onehot": Regressor("ridge", "onehot", False),
    "gbm_onehot": Regressor("gbm", "onehot", False),
    "rf_onehot": Regressor("rf", "onehot", False),
    "gbm_paths": Regressor("gbm", "paths", False),
    "rf_paths": Regressor("rf", "paths", False),
    "gbm_canonical": Regressor("gbm_deep", "canonical", True),
    "rf_canonical": Regressor("rf", "canonical", True),
    "gbm_canonical_cifar100": Regressor("gbm_deep", "canonical", True, ("cifar100_test_acc",)),
}
PREDICTORS = ("params", "flops_nb201", "flops_2mac", *REGRESSORS)
RANDOMIZED = {name for name, spec in REGRESSORS.items() if spec.model != "ridge"}  # the rest: one run


def one_hot_edges(archs: list[str]) -> np.ndarray:
    """(n, 6 * 5) indicator of the op on each of the six cell edges."""
    return one_hot_ops([arch_ops(arch) for arch in archs])


def function_class_features(archs: list[str]) -> np.ndarray:
    """`canonical_features` of each cell's function-class representative (tart.spaces.nb201.cell_function), then the
    parameter count of the representative's network (dead ops hold weights in the built net but compute nothing): cells
    that compute the same function get the same row."""
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
        # Settings of the literature's one-hot gradient-boosting baseline (tau about 0.68 / 0.72 at 5% / 10%).
        return GradientBoostingRegressor(n_estimators=500, max_depth=4, learning_rate=0.05, subsample=0.8,
                                         random_state=seed)  # fmt: skip
    if model == "gbm_deep":
        # The pick of `python -m benchmarks gbm-grid`: best validation tau (the 200 nets after the training
        # ones, summed over 5% and 10%) of depth 4 / 6 / 8, leaf size 1 / 5 / 10, rate 0.05 / 0.02, features 1 / 0.5.
        return GradientBoostingRegressor(n_estimators=1250, max_depth=6, min_samples_leaf=5, learning_rate=0.02,
                                         subsample=0.8, max_features=0.5, random_state=seed)  # fmt: skip
    return RandomForestRegressor(n_estimators=300, random_state=seed, n_jobs=threads)


def extra_labels(name: str) -> tuple[str, ...]:
    return REGRESSORS[name].extra_labels if name in REGRESSORS else ()


def fit_target(spec: Regressor, train_y: np.ndarray, n_train: int, extra: dict[str, np.ndarray]) -> np.ndarray:
    """What `spec` is fit to on the first `n_train` nets: the label, its normal scores, or the mean normal score of
    the label and `spec.extra_labels` (each ranked among the training nets only)."""
    if not spec.rank_target:
        return train_y[:n_train]
    return mixed_label(train_y[:n_train], {k: extra[k][:n_train] for k in spec.extra_labels}, spec.extra_labels)


def fit_predict(name: str, inputs: dict[str, np.ndarray], train_y: np.ndarray, n_train: int, seed: int,
                threads: int = 1, extra: dict[str, np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
    """Scores for all nets (higher = predicted better); `train_y` labels the first `n_train` nets, `extra` holds
    the `extra_labels` of the regressor. `inputs` holds the per-net "params", the FLOPs counts and the feature
    matrices of `REGRESSORS`, computed once for every fit."""
    if name in ("params", *FLOPS_COUNTS):
        return inputs[name].astype(np.float64)
    spec = REGRESSORS[name]
    model = make_regressor(spec.model, seed, threads)
    model.fit(inputs[spec.features][:n_train], fit_target(spec, train_y, n_train, extra or {}))
    return model.predict(inputs[spec.features])


def mixed_label(train_y: np.ndarray, extra: dict[str, np.ndarray], labels: tuple[str, ...]) -> np.ndarray:
    """The mean normal score of `train_y` and the `labels` of `extra` (each ranked on its own): over all nets, the
    ceiling of a model that reproduced the mixed target perfectly."""
    return np.mean([normal_scores(y) for y in (train_y, *(extra[k] for k in labels))], axis=0)


def run_baselines(archs: list[str], params: np.ndarray, train_label: np.ndarray, test_label: np.ndarray,
                  predictors: list[str], train_sizes: list[int], seeds: list[int], threads: int = 1,
                  progress: Callable[[str], None] | None = None,
                  transfer: dict[str, np.ndarray] | None = None) -> list[dict]:  # fmt: skip
    """One row per (predictor, train size, seed): Kendall tau-b and Spearman rho, all nets and remainder, and
    the same predictions ranked against each `transfer` label."""
    unknown = [name for name in predictors if name not in PREDICTORS]
    if unknown:
        raise ValueError(f"unknown baseline {unknown[0]!r}; expected one of {PREDICTORS}")
    transfer = transfer or {}
    for name in predictors:
        missing = [k for k in extra_labels(name) if k not in transfer]
        if missing:
            raise ValueError(f"baseline {name!r} also fits label {missing[0]!r}, which is not among the labels given")
    features = {REGRESSORS[name].features for name in predictors if name in REGRESSORS}
    inputs = {"params": params, "onehot": one_hot_edges(archs)}
    for kind in FLOPS_COUNTS:
        if kind in predictors:
            inputs[kind] = nb201_flops(archs, kind)
    if "paths" in features:
        inputs["paths"] = path_features(archs)
    if "canonical" in features:
        inputs["canonical"] = function_class_features(archs)
    rows = []
    for name in predictors:
        for n_train in train_sizes:
            if not 0 < n_train < len(archs):
                raise ValueError(f"train size {n_train}: expected between 1 and {len(archs) - 1}")
            for seed in seeds if name in RANDOMIZED else seeds[:1]:
                start = time.perf_counter()
                scores = fit_predict(name, inputs, train_label, n_train, seed, threads, transfer)
                seconds = time.perf_counter() - start
                # a label the regressor was fit to is no transfer target for it
                unseen = {k: v for k, v in transfer.items() if k not in extra_labels(name)}
                rows.append({"predictor": name, "n_train": n_train, "seed": seed, "fit_seconds": round(seconds, 3),
                             **score_run(scores, test_label, n_train, unseen)})  # fmt: skip
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
    # The same for each mix of labels a configured regressor is fit to, keyed by the extra labels.
    mixes = {extra_labels(name) for name in cfg.predictors} - {()}
    mix_ceilings = {"+".join(labels): kendall_tau_b(mixed_label(train_y, transfer, labels), test_y)
                    for labels in sorted(mixes)}  # fmt: skip
    report = {"train_label": target, "test_label": test_label, "n_nets": table.num_rows, "label_ceiling": ceiling,
              "mixed_label_ceilings": mix_ceilings, "baselines": summarize_runs(report_rows),
              "runs": report_rows}  # fmt: skip
    files.write_json(report, out_path)
    return report
