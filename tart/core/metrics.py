"""Ranking and error metrics, named for exactly what they compute, with bootstrap 95% intervals."""

from __future__ import annotations

import numpy as np
from scipy import stats


def kendall_tau_b(pred: np.ndarray, true: np.ndarray) -> float:
    """Kendall's tau-b (ties in either variable corrected)."""
    return float(stats.kendalltau(pred, true, variant="b").statistic)


def spearman_rho(pred: np.ndarray, true: np.ndarray) -> float:
    return float(stats.spearmanr(pred, true).statistic)


def mae(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(pred) - np.asarray(true))))


METRICS = {"kendall_tau_b": kendall_tau_b, "spearman_rho": spearman_rho, "mae": mae}
# Transfer: predictions trained on CIFAR-10 labels, ranked against other datasets' accuracies of the same nets.
TRANSFER_LABELS = ("cifar100_test_acc", "imagenet16_test_acc")


def transfer_scores(pred: np.ndarray, targets: dict[str, np.ndarray]) -> dict:
    """{"kendall_tau_b_<label>": tau, "spearman_rho_<label>": rho} for every target label."""
    out = {}
    for label, true in targets.items():
        out[f"kendall_tau_b_{label}"] = kendall_tau_b(pred, true)
        out[f"spearman_rho_{label}"] = spearman_rho(pred, true)
    return out


def bootstrap_interval(metric, pred: np.ndarray, true: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile 95% interval of `metric` over `n_boot` resamples of the (pred, true) pairs."""
    rng = np.random.default_rng(seed)
    values = [metric(pred[idx], true[idx]) for idx in rng.integers(0, len(pred), (n_boot, len(pred)))]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def summarize(pred: np.ndarray, true: np.ndarray, n_boot: int, seed: int, digits: int | None = None) -> dict:
    """Every metric with its interval, e.g. {"kendall_tau_b": .., "kendall_tau_b_ci95": [lo, hi], ..., "n": N}."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    out: dict = {"n": int(len(pred))}
    for name, fn in METRICS.items():
        value, interval = fn(pred, true), bootstrap_interval(fn, pred, true, n_boot, seed)
        if digits is not None:
            value, interval = round(value, digits), tuple(round(v, digits) for v in interval)
        out[name], out[f"{name}_ci95"] = value, list(interval)
    return out


def score_run(pred: np.ndarray, test_label: np.ndarray, n_train: int, transfer: dict[str, np.ndarray]) -> dict:
    """The scores of one run: over all nets, over those after the first `n_train`, and on each transfer label."""
    return {
        "kendall_tau_b": kendall_tau_b(pred, test_label),
        "kendall_tau_b_remainder": kendall_tau_b(pred[n_train:], test_label[n_train:]),
        "spearman_rho": spearman_rho(pred, test_label),
        "spearman_rho_remainder": spearman_rho(pred[n_train:], test_label[n_train:]),
        **transfer_scores(pred, transfer),
    }


def without_predictions(runs: list[dict]) -> list[dict]:
    """Runs as reported: the per-net predictions kept for ensembles and class means dropped."""
    return [{k: v for k, v in r.items() if k != "prediction"} for r in runs]


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
