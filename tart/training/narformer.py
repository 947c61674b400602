"""The `narformer` stage: the NAR-Former-style model (tart/models/narformer.py) fit with the cell-model recipe
(MSE + pairwise-difference ranking loss + L1 consistency between a cell and a renumbered copy, AdamW with warm-up
and linear decay, EMA weights, the best EMA weights by validation Kendall tau), one run per (cell input, size,
seed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from tart.core.params import NarFormer
from tart.models.narformer import NarFormerConfig, NarFormerModel
from tart.training.cell_models import FitConfig, cell_model_from_files, configs_from


def model_factory(section: NarFormer) -> tuple[FitConfig, Callable[[], NarFormerModel], dict]:
    """The fit recipe, a picklable model factory and the model config as a dict, from the params section."""
    fit, model_cfg = configs_from(section, NarFormerConfig)
    return fit, partial(NarFormerModel, model_cfg), model_cfg.to_dict()


def narformer_from_files(labels_path: Path, target: str, test_label: str, section: NarFormer, val_size: int,
                         out_path: Path, progress: Callable[[str], None] | None = None,
                         state_dir: Path | None = None) -> dict:  # fmt: skip
    """The `narformer` stage (see `tart.training.cell_models.cell_model_from_files`)."""
    fit, make_model, model_dict = model_factory(section)
    return cell_model_from_files("narformer", make_model, model_dict, labels_path, target, test_label,
                                 section.train_sizes, section.seeds, val_size, fit, out_path, progress,
                                 tuple(section.cell_inputs), state_dir)  # fmt: skip
