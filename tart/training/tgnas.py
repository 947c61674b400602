"""The `tgnas` stage: the TG-NAS-style GCN (tart/models/tgnas.py) trained like the NAR-Former-style model (same
protocol, losses and model selection; tart/training/cell_models.py), one run per (cell input, size, seed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from tart.core.params import TgNas
from tart.models.op_embeddings import load_embeddings
from tart.models.tgnas import TgnasConfig, TgnasGCN
from tart.spaces.nb201.cells import NODE_OPS
from tart.training.cell_models import FitConfig, cell_model_from_files, configs_from


def model_factory(section: TgNas) -> tuple[FitConfig, Callable[[], TgnasGCN], dict]:
    """The fit recipe, a picklable model factory (with the fixed op embeddings) and the model config as a dict."""
    fit, model_cfg = configs_from(section, TgnasConfig)
    embeddings = torch.from_numpy(load_embeddings(NODE_OPS))
    return fit, partial(TgnasGCN, model_cfg, embeddings), model_cfg.to_dict()


def tgnas_from_files(labels_path: Path, target: str, test_label: str, section: TgNas, val_size: int, out_path: Path,
                     progress: Callable[[str], None] | None = None,
                     state_dir: Path | None = None) -> dict:  # fmt: skip
    """The `tgnas` stage (see `tart.training.cell_models.cell_model_from_files`)."""
    fit, make_model, model_dict = model_factory(section)
    return cell_model_from_files("tgnas", make_model, model_dict, labels_path, target, test_label,
                                 section.train_sizes, section.seeds, val_size, fit, out_path, progress,
                                 tuple(section.cell_inputs), state_dir)  # fmt: skip
