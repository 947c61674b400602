"""The `tgnas` stage: the TG-NAS-style GCN trained like the NAR-Former-style model (same protocol, losses and
model selection; `tart/train_narformer.py`), one run per (training-set size, seed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from tart.cells import NODE_OPS
from tart.op_embeddings import load_embeddings
from tart.tgnas import TgnasConfig, TgnasGCN
from tart.train_narformer import FitConfig, cell_model_from_files, pick_config


def tgnas_from_files(labels_path: Path, target: str, test_label: str, section: object, val_size: int, out_path: Path,
                     progress: Callable[[str], None] | None = None) -> dict:  # fmt: skip
    embeddings = torch.from_numpy(load_embeddings(NODE_OPS))
    model_cfg = pick_config(TgnasConfig, section)
    return cell_model_from_files(
        "tgnas", partial(TgnasGCN, model_cfg, embeddings), model_cfg.to_dict(), labels_path, target, test_label,
        section.train_sizes, section.seeds, val_size, pick_config(FitConfig, section), out_path, progress,
        tuple(section.cell_inputs),
    )  # fmt: skip
