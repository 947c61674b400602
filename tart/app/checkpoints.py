"""Which checkpoint answers `tart predict`, `tart screen` and `tart info`, and what it knows about its training nets.

Three places, first found wins: a checkpoint named on the command line; inside a pipeline workspace (a params file
is found), the pipeline's own `paths.model`; otherwise the checkpoint shipped with the package, so the commands work
after `pip install` from any directory. The `package` stage copies the pipeline's checkpoint into the package with
its training profile (`tart/app/distribution.py`), so a workspace whose pipeline is up to date holds the same bytes
in both places.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tart.app.distribution import Profile
from tart.core.params import PARAMS_ENV, load_params, params_path
from tart.io.fetch import sha256_of
from tart.training.checkpoint import card_path, read_card

# package data, beside the `tart` package's modules; the package stage writes it (dvc.yaml, `package`)
PACKAGED_DIR = Path(__file__).resolve().parents[1] / "default_model"
CHECKPOINT_NAME = "tart.pt"
EMBEDDINGS_NAME = "tart.pt.embeddings.npy"


class CheckpointError(ValueError):
    """No usable checkpoint; the message says where it looked."""


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    source: str  # "given" (--checkpoint), "pipeline" (paths.model of the params file) or "packaged"

    def describe(self) -> str:
        return f"{self.path} ({self.source} checkpoint)"


def packaged_checkpoint(directory: Path = PACKAGED_DIR) -> Path:
    return directory / CHECKPOINT_NAME


def choose(given: Path | None, params: Path | None) -> Checkpoint:
    """The checkpoint to use (see the module docstring). `params` is the --params option: when a params file is
    named there or through $TART_PARAMS, it must exist; the implicit params.yaml may be absent."""
    if given is not None:
        if not given.exists():
            raise CheckpointError(f"{given}: no such checkpoint")
        return Checkpoint(given, "given")
    named = params is not None or PARAMS_ENV in os.environ
    if named or params_path(params).is_file():
        model = load_params(params).paths.model  # ParamsError when a named file is missing or invalid
        if model.exists():
            return Checkpoint(model, "pipeline")
    shipped = packaged_checkpoint()
    if not shipped.exists():
        raise CheckpointError(f"{shipped}: the package ships no checkpoint (a broken install?) and no pipeline "
                              "checkpoint was found; reinstall, or run `dvc repro package` in the repository")
    return Checkpoint(shipped, "packaged")


def _profile_beside(checkpoint: Path, card: dict) -> Profile:
    embeddings = checkpoint.with_name(card["profile"]["embeddings"])
    if not embeddings.exists():
        raise CheckpointError(f"{card_path(checkpoint)} names the training embeddings {embeddings}, which are missing")
    return Profile.from_facts(card["profile"], np.load(embeddings))


def training_profile(checkpoint: Path) -> Profile | None:
    """The training profile of `checkpoint`: its own (a packaged checkpoint carries one), else the packaged one
    when the weights are the same bytes; None when neither holds."""
    card = read_card(checkpoint)
    if "profile" in card:
        return _profile_beside(checkpoint, card)
    shipped = packaged_checkpoint()
    if not card_path(shipped).exists():
        return None
    shipped_card = json.loads(card_path(shipped).read_text())
    if "profile" in shipped_card and shipped_card.get("weights_sha256") == sha256_of(checkpoint):
        return _profile_beside(shipped, shipped_card)
    return None
