"""Baselines on the NB201 protocol: parameter count, FLOPs, and classic regressors on cell features (one-hot
edge ops as in the literature; the live ops plus per-path op counts of `tart.spaces.nb201.cell_paths`; and those of the
representative of the cell's function class (`tart.spaces.nb201.cell_function`) with path-shape figures and the
parameter count, fit to rank normal scores, alone or averaged with the same nets' CIFAR-100 label), a Gaussian process
on those function-class features (`tart.baselines.gaussian_process`), and mixes of two models' scores whose shares
are chosen on the protocol's validation nets.

Each predictor is fit on the first N architectures in index order (the NAR-Former protocol) and scored with
Kendall tau-b against the test label over all nets and over the nets it was not fit on, once per seed.
"""

from __future__ import annotations

import time
import warnings
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
    "gp_canonical": Regressor("gp", "canonical_standardised", True),
}
# Mixes of two regressors' scores (both fit to normal scores, so on one scale): share * first + (1 - share) * second,
# the first's share of `MIX_SHARES` chosen per fit on the validation nets. `python -m benchmarks gp-teacher`: the
# process and gradient boosting err on different nets, and their mix validates above either at 5% and 10%.
MIXES = {"gp_gbm_canonical": ("gp_canonical", "gbm_canonical")}
MIX_SHARES = np.round(np.linspace(0, 1, 11), 2)
PREDICTORS = ("params", "flops_nb201", "flops_2mac", *REGRESSORS, *MIXES)
RANDOMIZED = {name for name, spec in REGRESSORS.items() if spec.model not in ("ridge", "gp")}  # the rest: one run
RANDOMIZED |= {name for name, members in MIXES.items() if RANDOMIZED.intersection(members)}


def feature_inputs(archs: list[str], predictors: list[str]) -> dict[str, np.ndarray]:
    """The feature matrices the `predictors` (regressors and mixes) read, keyed as `Regressor.features`, one row per
    arch string: computed once, fit many times."""
    keys = {REGRESSORS[m].features for name in predictors for m in MIXES.get(name, (name,)) if m in REGRESSORS}
    inputs = {}
    if "onehot" in keys:
        inputs["onehot"] = one_hot_edges(archs)
    if "paths" in keys:
        inputs["paths"] = path_features(archs)
    if keys & {"canonical", "canonical_standardised"}:
        canonical = function_class_features(archs)
        if "canonical" in keys:
            inputs["canonical"] = canonical
        if "canonical_standardised" in keys:
            inputs["canonical_standardised"] = standardised(canonical)
    return inputs


def standardised(features: np.ndarray) -> np.ndarray:
    """Each column at zero mean and unit variance over every net (the graphs of unlabelled nets are known, their
    labels are never read), so one length scale of a Gaussian process fits every feature; a constant column stays
    zero."""
    x = features.astype(np.float64)
    std = x.std(0)
    return (x - x.mean(0)) / np.where(std > 0, std, 1.0)


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
    if model == "gp":
        from tart.baselines.gaussian_process import make_process

        return make_process()  # deterministic: its hyperparameters come from the labels, not from a seed
    return RandomForestRegressor(n_estimators=300, random_state=seed, n_jobs=threads)


def extra_labels(name: str) -> tuple[str, ...]:
    return REGRESSORS[name].extra_labels if name in REGRESSORS else ()


def fit_target(spec: Regressor, label: np.ndarray, train: np.ndarray, extra: dict[str, np.ndarray]) -> np.ndarray:
    """What `spec` is fit to on the nets `train` (positions in `label` and in each array of `extra`): the label, its
    normal scores, or the mean normal score of the label and `spec.extra_labels` (each ranked among `train` only)."""
    if not spec.rank_target:
        return label[train]
    return mixed_label(label[train], {k: extra[k][train] for k in spec.extra_labels}, spec.extra_labels)


def fit_scores(name: str, inputs: dict[str, np.ndarray], label: np.ndarray, train: np.ndarray, seed: int,
               threads: int = 1, extra: dict[str, np.ndarray] | None = None,
               val: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Scores for all nets (higher = predicted better) by predictor `name` fit on the nets `train` (positions):
    `label` and `extra` (the regressor's `extra_labels`) hold every net's value, of which only `train`'s are read,
    and `val`'s by a mix choosing its share. `inputs` holds the per-net "params", the FLOPs counts and the
    `feature_inputs`, computed once for every fit."""
    if name in ("params", *FLOPS_COUNTS):
        return inputs[name].astype(np.float64)
    if name in MIXES:
        if val is None or not len(val):
            raise ValueError(f"{name!r} chooses its mix on validation nets, and none were given")
        first, second = (fit_scores(m, inputs, label, train, seed, threads, extra) for m in MIXES[name])
        return mix_on_validation(first, second, val, label[val])[0]
    from sklearn.exceptions import ConvergenceWarning  # sklearn is imported when a regressor is fit, not before

    spec = REGRESSORS[name]
    model = make_regressor(spec.model, seed, threads)
    with warnings.catch_warnings():  # a process's hyperparameter at its bound: still the likeliest fit within them
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(inputs[spec.features][train], fit_target(spec, label, train, extra or {}))
    return model.predict(inputs[spec.features])


def fit_predict(name: str, inputs: dict[str, np.ndarray], train_y: np.ndarray, n_train: int, seed: int,
                threads: int = 1, extra: dict[str, np.ndarray] | None = None,
                val_size: int = 0) -> np.ndarray:  # fmt: skip
    """`fit_scores` on the protocol's split: the first `n_train` nets train, the `val_size` after them validate."""
    train, val = np.arange(n_train), np.arange(n_train, n_train + val_size)
    return fit_scores(name, inputs, train_y, train, seed, threads, extra, val)


def mix_on_validation(first: np.ndarray, second: np.ndarray, val: np.ndarray,
                      val_label: np.ndarray) -> tuple[np.ndarray, float]:  # fmt: skip
    """(share * first + (1 - share) * second, share) with the share of `MIX_SHARES` whose Kendall tau on the nets
    `val` (labelled `val_label`) is highest; ties go to the smaller share, so a first model that adds nothing gets 0."""
    taus = [kendall_tau_b(s * first[val] + (1 - s) * second[val], val_label) for s in MIX_SHARES]
    share = float(MIX_SHARES[int(np.argmax(taus))])
    return share * first + (1 - share) * second, share


def mixed_label(train_y: np.ndarray, extra: dict[str, np.ndarray], labels: tuple[str, ...]) -> np.ndarray:
    """The mean normal score of `train_y` and the `labels` of `extra` (each ranked on its own): over all nets, the
    ceiling of a model that reproduced the mixed target perfectly."""
    return np.mean([normal_scores(y) for y in (train_y, *(extra[k] for k in labels))], axis=0)


def run_baselines(archs: list[str], params: np.ndarray, train_label: np.ndarray, test_label: np.ndarray,
                  predictors: list[str], train_sizes: list[int], seeds: list[int], threads: int = 1,
                  progress: Callable[[str], None] | None = None,
                  transfer: dict[str, np.ndarray] | None = None, val_size: int = 0) -> list[dict]:  # fmt: skip
    """One row per (predictor, train size, seed): Kendall tau-b and Spearman rho, all nets and remainder, and
    the same predictions ranked against each `transfer` label. Mixes choose their shares on the `val_size` nets
    after the training ones."""
    unknown = [name for name in predictors if name not in PREDICTORS]
    if unknown:
        raise ValueError(f"unknown baseline {unknown[0]!r}; expected one of {PREDICTORS}")
    transfer = transfer or {}
    for name in predictors:
        missing = [k for k in extra_labels(name) if k not in transfer]
        if missing:
            raise ValueError(f"baseline {name!r} also fits label {missing[0]!r}, which is not among the labels given")
    mixes = [name for name in predictors if name in MIXES]
    if mixes and val_size < 1:
        raise ValueError(f"baseline {mixes[0]!r} chooses its mix on validation nets: expected a validation size >= 1")
    inputs = {"params": params, **feature_inputs(archs, predictors)}
    for kind in FLOPS_COUNTS:
        if kind in predictors:
            inputs[kind] = nb201_flops(archs, kind)
    rows = []
    for name in predictors:
        for n_train in train_sizes:
            if not 0 < n_train < len(archs):
                raise ValueError(f"train size {n_train}: expected between 1 and {len(archs) - 1}")
            if name in MIXES and n_train + val_size >= len(archs):
                raise ValueError(f"train size {n_train} + {val_size} validation nets: only {len(archs)} nets")
            for seed in seeds if name in RANDOMIZED else seeds[:1]:
                start = time.perf_counter()
                scores = fit_predict(name, inputs, train_label, n_train, seed, threads, transfer, val_size)
                seconds = time.perf_counter() - start
                # a label the regressor was fit to is no transfer target for it
                unseen = {k: v for k, v in transfer.items() if k not in extra_labels(name)}
                rows.append({"predictor": name, "n_train": n_train, "seed": seed, "fit_seconds": round(seconds, 3),
                             **score_run(scores, test_label, n_train, unseen)})  # fmt: skip
                if progress:
                    progress(f"{name} n={n_train} seed={seed}: tau {rows[-1]['kendall_tau_b']:.4f}")
    return rows


def baselines_from_files(labels_path: Path, target: str, test_label: str, cfg: Baselines, out_path: Path,
                         progress: Callable[[str], None] | None = None, val_size: int = 0) -> dict:  # fmt: skip
    """The `baselines` stage: every configured predictor on the label table, summary + raw runs as JSON; mixes
    choose their shares on the `val_size` nets after each training set."""
    names = ["net", "arch", "params", target, test_label, *TRANSFER_LABELS]
    table = pq.read_table(labels_path, columns=list(dict.fromkeys(names))).sort_by("net")
    columns = table.to_pydict()
    transfer = {label: np.array(columns[label]) for label in TRANSFER_LABELS}
    train_y, test_y = np.array(columns[target]), np.array(columns[test_label])
    report_rows = run_baselines(
        columns["arch"], np.array(columns["params"]), train_y, test_y,
        list(cfg.predictors), list(cfg.train_sizes), list(cfg.seeds), cfg.threads, progress, transfer, val_size,
    )  # fmt: skip
    # The ceiling: the training label itself used as the prediction (no model can reproduce it better).
    ceiling = {"kendall_tau_b": kendall_tau_b(train_y, test_y), **transfer_scores(train_y, transfer)}
    # The same for each mix of labels a configured regressor is fit to, keyed by the extra labels.
    label_mixes = {extra_labels(name) for name in cfg.predictors} - {()}
    mix_ceilings = {"+".join(labels): kendall_tau_b(mixed_label(train_y, transfer, labels), test_y)
                    for labels in sorted(label_mixes)}  # fmt: skip
    report = {"train_label": target, "test_label": test_label, "n_nets": table.num_rows, "val_size": val_size,
              "label_ceiling": ceiling,
              "mixed_label_ceilings": mix_ceilings, "baselines": summarize_runs(report_rows),
              "runs": report_rows}  # fmt: skip
    files.write_json(report, out_path)
    return report
