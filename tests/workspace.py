"""A tiny, committed copy of the pipeline (300 NB201 nets, 2 epochs) for the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=tart-tests", "-c", "user.email=tests@tart.invalid", "-c", "init.defaultBranch=main"]


def tiny_params() -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["build"].update(limit=300, workers=1, chunk=50)
    params["extract"]["shard_size"] = 120
    params["split"].update(train_size=100, val_size=50)
    # the tiny run also exercises the options that are off by default: an extra head and EMA ...
    # ... and a graph positional encoding with the cell-index channel
    params["train"].update(
        epochs=2,
        d_model=32,
        d_ff=64,
        n_layers=1,
        aux_targets=["cifar100_test_acc"],
        ema=0.9,
        graph_pe="topology",
        channels=[*params["train"]["channels"], "cell_tokens"],
    )
    params["tart_grid"].update(train_sizes=[50, 100], seeds=[0, 1], workers=2)
    params["evaluate"]["bootstrap"] = 20
    params["baselines"].update(train_sizes=[50, 100], seeds=[0, 1])
    params["narformer"].update(train_sizes=[100], seeds=[0], epochs=2, eval_every=1, n_layers=1, d_ff=32)
    params["tgnas"].update(train_sizes=[100], seeds=[0], epochs=2, eval_every=1, width=16, n_layers=1)
    params["proxies"].update(sample=6, batch_size=4, bootstrap=20, workers=1)
    return params


def workspace_env(work: Path, mirror: Path, **extra: str) -> dict:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TART_DATA_MIRROR": str(mirror),
        "PREFECT_HOME": str(work.parent / f"{work.name}-prefect"),
        "DVC_NO_ANALYTICS": "1",
        **extra,
    }


def run(cmd: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def make_tiny_workspace(work: Path, mirror: Path) -> Path:
    """Copy code and config, `dvc repro` the tiny profile and commit everything git should track."""
    work.mkdir(parents=True)
    for name in ("tart", "flows"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", ".gitignore", ".dvcignore"):
        shutil.copy(ROOT / name, work)
    (work / "data").mkdir()
    shutil.copy(ROOT / "data" / "manifest.tsv", work / "data")
    (work / "params.yaml").write_text(yaml.safe_dump(tiny_params(), sort_keys=False))
    env = workspace_env(work, mirror)
    run([*GIT, "init", "-q"], work, env)
    run([sys.executable, "-m", "dvc", "init", "-q"], work, env)
    run([sys.executable, "-m", "dvc", "repro"], work, env)
    run([*GIT, "add", "-A"], work, env)
    run([*GIT, "commit", "-q", "-m", "tiny pipeline results"], work, env)
    return work


def copy_workspace(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target
