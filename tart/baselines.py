"""Baselines on the NB201 protocol: parameter count, FLOPs, and classic regressors on one-hot edge ops.

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
import torch
from torch.utils.flop_counter import FlopCounterMode

from tart import schemas
from tart.metrics import TRANSFER_LABELS, kendall_tau_b, spearman_rho, transfer_scores
from tart.params import Baselines
from tart.spaces.nb201 import NUM_EDGES, OPS, arch_ops, arch_string, build_network

PREDICTORS = ("params", "flops", "ridge_onehot", "gbm_onehot", "rf_onehot")
RANDOMIZED = {"gbm_onehot", "rf_onehot"}  # the others give the same scores for every seed


def one_hot_edges(archs: list[str]) -> np.ndarray:
    """(n, 6 * 5) indicator of the op on each of the six cell edges."""
    index = {op: i for i, op in enumerate(OPS)}
    features = np.zeros((len(archs), NUM_EDGES * len(OPS)), dtype=np.float32)
    for row, arch in enumerate(archs):
        for edge, op in enumerate(arch_ops(arch)):
            features[row, edge * len(OPS) + index[op]] = 1.0
    return features


def count_flops(arch: str, input_size: int = 32) -> int:
    """FLOPs of one forward pass at batch 1 as PyTorch's FlopCounterMode counts them (convs and linears,
    2 per multiply-accumulate), on meta tensors: no arithmetic is done."""
    net = build_network(arch, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.empty(1, 3, input_size, input_size, device="meta"))
    return int(counter.get_total_flops())


@cache
def _edge_op_flops(input_size: int) -> tuple[int, dict[str, float]]:
    # Every cell applies its ops independently, so a net's FLOPs are those of the skeleton (all edges `none`)
    # plus one term per edge op; each term is measured once on a net with that op on all six edges.
    base = count_flops(arch_string(("none",) * NUM_EDGES), input_size)
    per_op = {op: (count_flops(arch_string((op,) * NUM_EDGES), input_size) - base) / NUM_EDGES for op in OPS}
    return base, per_op


def nb201_flops(archs: list[str], input_size: int = 32) -> np.ndarray:
    """FLOPs of every NB201 net from the additive decomposition (equal to count_flops, see tests)."""
    base, per_op = _edge_op_flops(input_size)
    return np.array([base + sum(per_op[op] for op in arch_ops(a)) for a in archs], dtype=np.int64)


def _regressor(name: str, seed: int, threads: int):
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import Ridge

    if name == "ridge_onehot":
        return Ridge(alpha=1.0)
    if name == "gbm_onehot":
        # These settings reproduce the reference numbers in DOMAIN.md section 6 (0.680 / 0.725).
        return GradientBoostingRegressor(n_estimators=500, max_depth=4, learning_rate=0.05, subsample=0.8,
                                         random_state=seed)  # fmt: skip
    if name == "rf_onehot":
        return RandomForestRegressor(n_estimators=300, random_state=seed, n_jobs=threads)
    raise ValueError(f"unknown baseline {name!r}; expected one of {PREDICTORS}")


def fit_predict(name: str, inputs: dict[str, np.ndarray], train_y: np.ndarray, n_train: int, seed: int,
                threads: int = 1) -> np.ndarray:  # fmt: skip
    """Scores for all nets (higher = predicted better); `train_y` labels the first `n_train` nets. `inputs` holds
    the per-net "params", "flops" and one-hot "features", computed once for every fit."""
    if name in ("params", "flops"):
        return inputs[name].astype(np.float64)
    model = _regressor(name, seed, threads)
    model.fit(inputs["features"][:n_train], train_y[:n_train])
    return model.predict(inputs["features"])


def score_run(pred: np.ndarray, test_label: np.ndarray, n_train: int, transfer: dict[str, np.ndarray]) -> dict:
    """The scores of one run: over all nets, over those after the first `n_train`, and on each transfer label."""
    return {
        "kendall_tau_b": kendall_tau_b(pred, test_label),
        "kendall_tau_b_remainder": kendall_tau_b(pred[n_train:], test_label[n_train:]),
        "spearman_rho": spearman_rho(pred, test_label),
        **transfer_scores(pred, transfer),
    }


def run_baselines(archs: list[str], params: np.ndarray, train_label: np.ndarray, test_label: np.ndarray,
                  predictors: list[str], train_sizes: list[int], seeds: list[int], threads: int = 1,
                  progress: Callable[[str], None] | None = None,
                  transfer: dict[str, np.ndarray] | None = None) -> list[dict]:  # fmt: skip
    """One row per (predictor, train size, seed): Kendall tau-b and Spearman rho, all nets and remainder, and
    the same predictions ranked against each `transfer` label."""
    unknown = [name for name in predictors if name not in PREDICTORS]
    if unknown:
        raise ValueError(f"unknown baseline {unknown[0]!r}; expected one of {PREDICTORS}")
    inputs = {"params": params, "features": one_hot_edges(archs)}
    if "flops" in predictors:
        inputs["flops"] = nb201_flops(archs)
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


def summarize_runs(rows: list[dict]) -> dict:
    """{predictor: {n_train: mean/std over seeds of each score, seeds, fit seconds}}."""
    out: dict = {}
    for name in dict.fromkeys(r["predictor"] for r in rows):
        out[name] = {}
        for n_train in dict.fromkeys(r["n_train"] for r in rows if r["predictor"] == name):
            group = [r for r in rows if r["predictor"] == name and r["n_train"] == n_train]
            entry: dict = {
                "seeds": len(group),
                "fit_seconds_median": float(np.median([r["fit_seconds"] for r in group])),
            }
            for key in [k for k in group[0] if k.startswith(("kendall_tau_b", "spearman_rho"))]:
                values = np.array([r[key] for r in group])
                entry[key] = float(values.mean())
                entry[key + "_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            out[name][str(n_train)] = entry
    return out


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
