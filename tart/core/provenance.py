"""Run provenance (commit, versions, device, timings) kept apart from the DVC-hashed outputs."""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

from tart.core.files import write_text

PACKAGES = ("tart", "torch", "prefect", "dvc", "pyarrow", "polars", "h5py", "networkx", "numpy", "scipy")


def package_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cpu_model() -> str:
    """The CPU's model name: CPU kernels differ between models, and so can the last bits of a result."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def code_commit() -> str | None:
    """The git commit of the working directory (None outside a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def last_seconds(stage: str, directory: Path) -> float | None:
    """Seconds of the last recorded run of `stage` in `directory`; None when none was recorded (or the record is
    unreadable: it is a hint for the reader, never an input to a result)."""
    try:
        return float(json.loads((directory / f"{stage}.json").read_text())["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record(stage: str, seconds: float, directory: Path, **facts: object) -> Path:
    """Write `directory/<stage>.json` describing this run of `stage`."""
    directory.mkdir(parents=True, exist_ok=True)
    info = {
        "stage": stage,
        "seconds": round(seconds, 2),
        "commit": code_commit(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "versions": {p: package_version(p) for p in PACKAGES},
        **facts,
    }
    path = directory / f"{stage}.json"
    write_text(path, json.dumps(info, indent=2, default=str) + "\n")
    return path
