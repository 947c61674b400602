"""Training state on disk, so a killed stage resumes where it stopped instead of starting over.

The training loop saves one file per fit after every epoch (weights, optimiser, schedule, EMA, the best weights so
far, every random generator); a grid stage also keeps each finished fit's result. The files live under
`paths.resume` (params.yaml; git-ignored, not a DVC output, so DVC never deletes them before a stage runs) and are
removed once the stage has written its outputs.

A file resumes only the fit it was written for: its key hashes the fit's settings and data and the library's
source, so a changed recipe, dataset or code starts the fit over (with a line saying so) rather than continuing
someone else's run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from tart.core.files import atomic_path

Result = TypeVar("Result")


@functools.cache
def library_hash() -> str:
    """SHA-256 over the library's Python sources: any code change makes older state files stale."""
    root = Path(__file__).resolve().parents[1]  # the tart package
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def fit_key(settings: object, *arrays: np.ndarray | torch.Tensor | None) -> str:
    """The key of one fit: its settings (JSON-serialisable), its data arrays and the library's sources."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array.numpy() if isinstance(array, torch.Tensor) else array)
        digest.update(f"{array.dtype}{array.shape}".encode() + array.tobytes())
    digest.update(library_hash().encode())
    digest.update(torch.__version__.encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class StateFile:
    """One fit's state file and the key it must carry to be resumed."""

    path: Path
    key: str

    def load(self) -> dict | None:
        """The saved state, or None when there is none or it belongs to another fit (said on stderr)."""
        if not self.path.exists():
            return None
        try:
            # our own file, written atomically by `save`: it holds numpy and Python RNG states, not only tensors
            state = torch.load(self.path, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise ValueError(f"{self.path}: unreadable training state ({type(exc).__name__}: {exc}); "
                             "delete it to start this fit over") from exc  # fmt: skip
        if not isinstance(state, dict) or state.get("key") != self.key:
            print(f"{self.path}: written for other settings, data or code; starting this fit over",
                  file=sys.stderr)  # fmt: skip
            return None
        return state

    def save(self, state: dict) -> None:
        with atomic_path(self.path) as tmp:
            torch.save({**state, "key": self.key}, tmp)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


Generator = np.random.Generator | torch.Generator


def random_state(generators: Sequence[Generator]) -> dict:
    """Every random stream a fit draws from: Python's, numpy's and torch's global ones and its own generators."""
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "own": [g.bit_generator.state if isinstance(g, np.random.Generator) else g.get_state() for g in generators],
    }


def restore_random_state(state: dict, generators: Sequence[Generator]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    for generator, saved in zip(generators, state["own"], strict=True):
        if isinstance(generator, np.random.Generator):
            generator.bit_generator.state = saved
        else:
            generator.set_state(saved)


def stage_dir(resume_root: Path | None, stage: str) -> Path | None:
    return None if resume_root is None else Path(resume_root) / stage


def resumable_fit(directory: Path | None, name: str, key: str, fit: Callable[[StateFile | None], Result]) -> Result:
    """Run `fit(state_file)` for the fit `name` of a grid stage, or return its result when a run that was killed
    later had already finished it. `directory` None: no state kept."""
    if directory is None:
        return fit(None)
    done = StateFile(directory / f"{name}.done.pt", key)
    if (state := done.load()) is not None:
        return state["result"]
    epochs = StateFile(directory / f"{name}.pt", key)
    result = fit(epochs)
    done.save({"result": result})
    epochs.clear()
    return result


def clear_stage(directory: Path | None) -> None:
    """Remove a stage's state files once its outputs are written."""
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
