"""The one training loop: epochs of optimiser steps with an optional weight EMA, validation by Kendall tau on
the validation nets, the best validated weights kept, and an optional early stop (`patience`)."""

from __future__ import annotations

import copy
import os
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from tart.training.resume import Generator, StateFile, random_state, restore_random_state


def seed_everything(seed: int) -> None:
    """Seed every generator and ask for deterministic kernels (cuBLAS needs its workspace setting for that)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def pick_device(choice: str) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("train.device is 'cuda' but torch sees no CUDA device")
        return torch.device("cuda")
    return torch.device("cpu")


def autocast(device: torch.device, precision: str):
    """bf16 autocast for `precision == "bf16"` (matmuls and attention in bf16, reductions in fp32)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


def kept_state(best_state: dict | None, n_val: int) -> dict:
    """The best validation checkpoint. None means Kendall tau was NaN at every evaluation (all validation nets
    scored alike, or all their labels equal): no epoch can be picked, so stop with that said."""
    if best_state is None:
        raise ValueError(f"validation Kendall tau was NaN at every evaluation: the model gave all {n_val} validation "
                         "nets the same score, or their labels are all equal; no checkpoint to keep")  # fmt: skip
    return best_state


@dataclass(frozen=True)
class Schedule:
    """When to validate and stop: every `eval_every` epochs and after the last; `patience`: stop once that many
    epochs have passed since the best validation tau (None: run all `epochs`)."""

    epochs: int
    eval_every: int = 1
    patience: int | None = None
    ema: float | None = None  # EMA decay of the weights; the EMA weights are then validated and kept
    desc: str = "train"
    show: bool = True  # the progress bar (off on all but one rank of a torchrun launch)


def train_epochs(model: torch.nn.Module, opt: torch.optim.Optimizer, sched: torch.optim.lr_scheduler.LRScheduler,
                 schedule: Schedule, batches: Callable[[], Iterable], batch_loss: Callable[[object], torch.Tensor],
                 validate: Callable[[torch.nn.Module], float], n_val: int, state_file: StateFile | None = None,
                 generators: Sequence[Generator] = ()) -> list[dict]:  # fmt: skip
    """Run the epochs; `model` ends holding the best validated weights. Returns the curves, one row per validation:
    epoch, mean training loss of the epoch, validation Kendall tau-b.

    `batches()` is called at the start of every epoch and yields what `batch_loss` takes; `validate` scores the
    weights being kept (the EMA copy when `schedule.ema` is set) on the validation nets.

    `state_file`: where the whole training state goes after every epoch and where a killed run's state is read
    back, so the rerun continues from its last finished epoch and ends with the same weights as an uninterrupted
    run. `generators`: the random generators `batches` and `batch_loss` draw from besides the global ones.
    """
    ema = None if schedule.ema is None else AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(schedule.ema))
    scored = model if ema is None else ema.module
    curves, best, best_epoch, best_state, done = [], -2.0, 0, None, 0
    saved = state_file.load() if state_file is not None else None
    if saved is not None:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["schedule"])
        if ema is not None:
            ema.load_state_dict(saved["ema"])
        curves, best, best_epoch, best_state, done = (saved[k] for k in ("curves", "best", "best_epoch",
                                                                         "best_state", "epoch"))  # fmt: skip
        restore_random_state(saved["random"], generators)
        tqdm.write(f"{schedule.desc}: resuming after epoch {done} of {schedule.epochs} from {state_file.path}",
                   file=sys.stderr)  # fmt: skip
    bar = tqdm(range(done + 1, schedule.epochs + 1), desc=schedule.desc, unit="epoch", initial=done,
               total=schedule.epochs, disable=not schedule.show)  # fmt: skip
    for epoch in bar:
        model.train()
        losses = []
        for batch in batches():
            loss = batch_loss(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(model)
            losses.append(loss.item())
        if not (epoch % schedule.eval_every and epoch != schedule.epochs):
            tau = validate(scored)
            curves.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_kendall_tau_b": tau})
            bar.set_postfix(loss=f"{curves[-1]['train_loss']:.4f}", val_tau=f"{tau:.4f}")
            if tau > best:
                best, best_epoch, best_state = tau, epoch, copy.deepcopy(scored.state_dict())
            elif schedule.patience is not None and epoch - best_epoch >= schedule.patience:
                break
        if state_file is not None:
            state_file.save({"epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict(),
                             "schedule": sched.state_dict(), "ema": None if ema is None else ema.state_dict(),
                             "curves": curves, "best": best, "best_epoch": best_epoch, "best_state": best_state,
                             "random": random_state(generators)})  # fmt: skip
    model.load_state_dict(kept_state(best_state, n_val))
    return curves


def best_of(curves: list[dict]) -> dict:
    """The run facts every fit reports about its kept epoch: the first epoch with the highest tau (NaN never wins,
    as in `train_epochs`)."""
    best = max((c for c in curves if not np.isnan(c["val_kendall_tau_b"])), key=lambda c: c["val_kendall_tau_b"])
    return {"best_epoch": best["epoch"], "best_val_kendall_tau_b": best["val_kendall_tau_b"]}
