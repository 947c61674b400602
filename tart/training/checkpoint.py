"""Checkpoints: the state dict and its JSON card beside it (model config, vocabulary hash, params, run facts)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from tart.core.files import atomic_path, write_text
from tart.models.transformer import TartConfig, TartModel


def card_path(checkpoint: Path) -> Path:
    """The JSON card beside a checkpoint: `tart.pt` -> `tart.pt.json`."""
    return checkpoint.with_name(checkpoint.name + ".json")


def read_card(checkpoint: Path) -> dict:
    card = card_path(checkpoint)
    if not card.exists():
        raise FileNotFoundError(f"{card} is missing; run the train stage first (dvc repro train)")
    return json.loads(card.read_text())


def save_checkpoint(model: TartModel, facts: dict, params: dict, path: Path) -> None:
    """`path` (state dict) and its card (config, vocabulary hash, params, run facts), each written atomically."""
    with atomic_path(path) as tmp:
        torch.save({k: v.cpu() for k, v in model.state_dict().items()}, tmp)
    card = {**facts, "params": params}
    card.pop("train_seconds", None)  # timings vary run to run; they go to the provenance file
    write_text(card_path(path), json.dumps(card, indent=2, sort_keys=True) + "\n")


def load_checkpoint(path: Path, device: str = "cpu") -> tuple[TartModel, dict]:
    """The model (on `device`) and its card."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run the train stage first (dvc repro train)")
    card = read_card(path)
    model = TartModel(TartConfig(**{**card["model"], "vocab_sizes": tuple(card["model"]["vocab_sizes"])}))
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model.to(device), card
