"""The one training loop: validation when due, the best validated weights kept, EMA weights validated when asked,
and an early stop after `patience` epochs without a better validation tau."""

import numpy as np
import pytest
import torch

from tart.training.loop import Schedule, best_of, train_epochs


def scripted(taus: list[float], schedule: Schedule):
    """A one-weight model whose validation tau follows `taus`, one value per validation; the weight records the
    epoch, so the kept weights tell which epoch was kept."""
    model = torch.nn.Linear(1, 1, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    epochs_seen = []

    def batch_loss(_):
        return (model.weight - (model.weight.detach() + 1.0)).pow(2).sum() / 2  # a step adds exactly 1

    def validate(scored):
        epochs_seen.append(float(scored.weight.detach()))
        return taus[len(epochs_seen) - 1]

    with torch.no_grad():
        model.weight.zero_()
    curves = train_epochs(model, opt, sched, schedule, lambda: [None], batch_loss, validate, n_val=3)
    return model, curves, epochs_seen


def test_keeps_the_weights_of_the_best_validation():
    model, curves, _ = scripted([0.1, 0.5, 0.3, 0.2], Schedule(epochs=4))
    assert [c["epoch"] for c in curves] == [1, 2, 3, 4]
    assert float(model.weight.detach()) == 2.0
    assert best_of(curves) == {"best_epoch": 2, "best_val_kendall_tau_b": 0.5}


def test_validates_every_eval_every_epochs_and_after_the_last():
    _, curves, seen = scripted([0.1, 0.2, 0.3], Schedule(epochs=5, eval_every=2))
    assert [c["epoch"] for c in curves] == [2, 4, 5] and seen == [2.0, 4.0, 5.0]


def test_stops_after_patience_epochs_without_improvement():
    model, curves, _ = scripted([0.1, 0.6, 0.5, 0.4, 0.9, 0.9], Schedule(epochs=6, patience=2))
    assert [c["epoch"] for c in curves] == [1, 2, 3, 4] and float(model.weight.detach()) == 2.0


def test_validates_and_keeps_the_ema_weights_when_asked():
    model, _, seen = scripted([0.1, 0.2, 0.3], Schedule(epochs=3, ema=0.5))
    # EMA of the weights 1, 2, 3 with decay 0.5, starting from the first update: 1, 1.5, 2.25
    assert seen == [1.0, 1.5, 2.25] and float(model.weight.detach()) == 2.25


def test_nan_never_counts_as_best():
    model, curves, _ = scripted([float("nan"), 0.2, 0.1], Schedule(epochs=3))
    assert float(model.weight.detach()) == 2.0 and best_of(curves)["best_epoch"] == 2
    with pytest.raises(ValueError, match="NaN at every evaluation"):
        scripted([float("nan")] * 2, Schedule(epochs=2))
    assert np.isnan(curves[0]["val_kendall_tau_b"])
