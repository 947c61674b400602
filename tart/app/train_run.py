"""The `train` and `evaluate` stages' work in one call, without Prefect or DVC (`tart train OUT`): for a machine
that has neither, such as a lent GPU, and for trying a recipe change without touching the pipeline's outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from pydantic import ValidationError

from tart.core import files
from tart.core.params import Params, Train
from tart.evaluation.evaluate import evaluate
from tart.training.checkpoint import save_checkpoint
from tart.training.ranks import ranks_from_env
from tart.training.train import train_from_files, write_curves


class RunError(ValueError):
    """A setting or an input of `tart train` that cannot work; the message names it."""


def with_settings(train: Train, settings: list[str]) -> Train:
    """`train` with each "KEY=VALUE" applied (VALUE read as YAML: 256, bf16, [tokens, shape_tokens])."""
    updates = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise RunError(f"setting {item!r}: expected KEY=VALUE, e.g. device=cuda")
        updates[key.removeprefix("train.")] = yaml.safe_load(value)
    try:
        return Train.model_validate({**train.model_dump(), **updates})
    except ValidationError as exc:
        raise RunError(f"train settings {settings}: {exc}") from exc


def train_and_evaluate(p: Params, train: Train, out: Path,
                       progress: Callable[[str], None] = lambda _: None) -> dict | None:  # fmt: skip
    """Fit `train` on the pipeline's tokens, labels and split, then score it as the `evaluate` stage does. Writes
    `tart.pt` (+ `.json`), `train_curve.csv`, `predictions.parquet` and `metrics.json` into `out`, all or none.
    Under `torchrun` (tart/training/ranks.py) every rank trains and rank 0 alone scores and writes; the other ranks
    return None."""
    if out.exists() and any(out.iterdir()):
        raise RunError(f"{out}: exists and is not empty; name a new directory")
    for path, stage in ((p.paths.tokens, "tokenize"), (p.paths.labels, "build"), (p.paths.split, "split")):
        if not path.exists():
            raise RunError(f"{path}: not found; run `dvc repro {stage}` first (or carry it to this machine)")
    model, curves, run = train_from_files(train, p.paths.tokens, p.paths.labels, p.paths.split)
    if not ranks_from_env().writes:
        return None
    e = p.evaluate
    progress(f"scoring every net against {e.test_label} ({e.bootstrap} bootstrap resamples for the intervals)")
    with files.atomic_dir(out) as tmp:
        save_checkpoint(model, run, train.model_dump(), tmp / "tart.pt")
        write_curves(curves, tmp / "train_curve.csv")
        metrics = evaluate(p.paths.tokens, p.paths.labels, p.paths.split, tmp / "tart.pt",
                           tmp / "predictions.parquet", tmp / "metrics.json", e.test_label, e.bootstrap, e.seed,
                           e.round_digits)  # fmt: skip
    return {"run": run, "metrics": metrics}
