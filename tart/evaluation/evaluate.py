"""`evaluate` stage: predict every architecture, write predictions and `metrics.json`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tart.core import files, schemas
from tart.core.metrics import TRANSFER_LABELS, kendall_tau_b, summarize, transfer_scores
from tart.tokens.token_set import load_tokens, rows_of
from tart.training.checkpoint import load_checkpoint
from tart.training.targets import to_label_scale
from tart.training.train import predict_heads


def evaluate(
    tokens_dir: Path, labels: Path, split: Path, checkpoint: Path, predictions_path: Path, metrics_path: Path,
    test_label: str, n_boot: int, seed: int, digits: int | None,
) -> dict:  # fmt: skip
    """Metrics over all nets ('test_all') and over the nets not used for training ('test_remainder')."""
    model, meta = load_checkpoint(checkpoint)
    ts = load_tokens(tokens_dir, tuple(meta["channels"]), meta["model"]["graph_pe"], meta["model"]["pe_dim"])
    roles = pq.read_table(split)
    nets = np.asarray(roles["net"].to_pylist())
    label_table = pq.read_table(labels)
    if test_label not in label_table.column_names:
        raise KeyError(f"{labels}: no column {test_label!r}; columns are {label_table.column_names}")
    position = {int(n): k for k, n in enumerate(label_table["net"].to_pylist())}
    order = np.array([position[int(n)] for n in nets])

    def column(name: str) -> np.ndarray:
        return np.asarray(label_table[name].to_pylist(), dtype=float)[order]

    target = column(test_label)
    # The model predicts on its own scale; map back so MAE is in accuracy points.
    heads = predict_heads(model, ts, rows_of(ts, nets), precision=meta["params"]["precision"])
    pred = to_label_scale(heads[:, 0], meta["target_scale"])
    role = np.asarray(roles["role"].to_pylist())
    table = pa.table({"net": nets, "role": role, "prediction": pred, "target": target})
    files.write_table(table, predictions_path, schemas.PREDICTIONS)
    rest = role != "train"
    metrics = {
        "model": "tart",
        "train_label": meta["params"]["target"],
        "test_label": test_label,
        "n_train": int((role == "train").sum()),
        "test_all": summarize(pred, target, n_boot, seed, digits),
        "test_remainder": summarize(pred[rest], target[rest], n_boot, seed, digits),
        "transfer": transfer_scores(pred, {label: column(label) for label in TRANSFER_LABELS}),
    }
    # Extra heads (train.aux_targets): each scored against its own label column.
    for h, label in enumerate(meta["params"]["aux_targets"], start=1):
        metrics.setdefault("heads", {})[label] = {
            "kendall_tau_b": kendall_tau_b(heads[:, h], column(label)),
            "kendall_tau_b_remainder": kendall_tau_b(heads[rest, h], column(label)[rest]),
        }
    files.write_json(metrics, metrics_path)
    return metrics
