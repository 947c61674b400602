"""How labels map to model outputs and back: normal scores of ranks or z-scores for TART, ranks or accuracy / 100
in (0, 1) for the cell models' sigmoid heads."""

from __future__ import annotations

import numpy as np
from scipy import stats

QUANTILES = np.linspace(0.0, 1.0, 101)


def fit_target_scale(y: np.ndarray, transform: str) -> dict:
    """How training labels map to model outputs: z-scores, or normal scores of their ranks ("rank").

    Ranks make the loss indifferent to the long tail of NB201 (nets at chance accuracy), which is what Kendall tau
    measures too; the stored quantiles map predictions back to label units.
    """
    return {"transform": transform, "mean": float(y.mean()), "std": float(y.std() or 1.0),
            "quantiles": np.quantile(y, QUANTILES).tolist()}  # fmt: skip


def to_model_scale(y: np.ndarray, scale: dict) -> np.ndarray:
    if scale["transform"] == "rank":
        return stats.norm.ppf((stats.rankdata(y) - 0.5) / len(y))
    return (y - scale["mean"]) / scale["std"]


def to_label_scale(pred: np.ndarray, scale: dict) -> np.ndarray:
    """Model outputs back in label units (monotone, so rankings are unchanged)."""
    if scale["transform"] == "rank":
        return np.interp(stats.norm.cdf(pred), QUANTILES, scale["quantiles"])
    return pred * scale["std"] + scale["mean"]


def unit_targets(y: np.ndarray, transform: str) -> np.ndarray:
    """Training labels in (0, 1) for the sigmoid head. Ranks spread the crowded top of NB201 (most nets within a few
    points of each other) over the whole interval; with accuracy / 100 a CPU-length run barely orders them."""
    if transform == "rank":
        return (stats.rankdata(y) - 0.5) / len(y)
    if transform == "unit":
        return y / 100.0
    raise ValueError(f"target_transform {transform!r}: expected 'rank' or 'unit'")
