"""The evaluate stage on a checkpoint trained on synthetic nets: every net predicted once, metrics equal to scipy's
on the written predictions, and the trained model ranks the held-out nets better than a baseline that knows only
their length."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from helpers import CHANNELS, synthetic_tokens, train_settings
from scipy import stats

from tart.core import files, schemas
from tart.evaluation.evaluate import evaluate
from tart.training.checkpoint import save_checkpoint
from tart.training.train import fit


def test_evaluate_scores_every_net_and_beats_the_size_baseline(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    ts, convs = synthetic_tokens(tokens, n=80)  # chains of convs and pools
    y = convs / ts.lengths.numpy()  # label: the share of convs, which the chain's length does not tell
    roles = np.array(["train"] * 50 + ["val"] * 10 + ["rest"] * 20)
    files.write_table(pa.table({"net": ts.nets, "role": roles}), tmp_path / "split.parquet", schemas.SPLIT)
    labels = pa.table({"net": ts.nets, "acc": y, "cifar10_test_acc": y, "cifar100_test_acc": y,
                       "imagenet16_test_acc": -y})  # fmt: skip
    pq.write_table(labels, tmp_path / "labels.parquet")
    cfg = train_settings(epochs=30, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, lr=3e-3,
                         channels=list(CHANNELS), target="acc", dropout=0.0, threads=1, device="cpu")
    rows = np.arange(80)
    model, _, facts = fit(cfg, ts, rows[:50], y[:50], rows[50:60], y[50:60])
    save_checkpoint(model, facts, cfg.model_dump(), tmp_path / "model" / "tart.pt")

    metrics = evaluate(tokens, tmp_path / "labels.parquet", tmp_path / "split.parquet", tmp_path / "model" / "tart.pt",
                       tmp_path / "predictions.parquet", tmp_path / "metrics.json", "cifar10_test_acc", n_boot=50,
                       seed=0, digits=None)  # fmt: skip
    predictions = pq.read_table(tmp_path / "predictions.parquet")
    assert predictions.schema.equals(schemas.PREDICTIONS) and predictions["net"].to_pylist() == list(range(80))
    pred, target = np.array(predictions["prediction"]), np.array(predictions["target"])
    assert metrics == json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["n_train"] == 50 and metrics["test_remainder"]["n"] == 30
    assert metrics["test_all"]["kendall_tau_b"] == stats.kendalltau(pred, target).statistic
    rest = slice(50, None)
    assert metrics["test_remainder"]["kendall_tau_b"] == stats.kendalltau(pred[rest], target[rest]).statistic
    # the held-out nets: the model must rank them better than their node count does (a size-only baseline)
    lengths = ts.lengths.numpy().astype(float)
    size_tau = stats.kendalltau(lengths[rest], target[rest]).statistic
    assert metrics["test_remainder"]["kendall_tau_b"] > max(size_tau, 0.0) + 0.3
    assert metrics["transfer"]["kendall_tau_b_imagenet16_test_acc"] == -metrics["test_all"]["kendall_tau_b"]
