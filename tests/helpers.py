"""What the tests share: a tiny copy of the pipeline (300 NB201 nets, 2 epochs) for the end-to-end tests, synthetic
token sets and labels, params built from params.yaml with overrides, and real NB201 cells with whole function
classes. Test files import from here, never from each other."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from tart.core import files, schemas
from tart.core.params import NarFormer, Params, Train, load_params
from tart.models.narformer import NarFormerConfig
from tart.models.transformer import TartConfig
from tart.spaces.nb201.cell_function import representative_cells
from tart.spaces.nb201.network import all_arch_ops, arch_string
from tart.tokens.token_set import load_tokens
from tart.tokens.tokenize import tokenize_row, vocabulary
from tart.training.cell_models import FitConfig, configs_from

ROOT = Path(__file__).resolve().parents[1]
GIT = ["git", "-c", "user.name=tart-tests", "-c", "user.email=tests@tart.invalid", "-c", "init.defaultBranch=main"]


def tiny_pipeline_params() -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["build"].update(limit=300, workers=1, chunk=50)
    params["extract"]["shard_size"] = 120
    params["split"].update(train_size=100, val_size=50)
    # the tiny run also exercises the options that are off by default: an extra head (which rules out a teacher,
    # tested in tests/training/test_distill.py) and EMA, a graph positional encoding, the cell-index channel, and a
    # grid override (a second recipe at one size)
    params["train"].update(
        teacher="none",
        epochs=2,
        d_model=32,
        d_ff=64,
        n_layers=1,
        aux_targets=["cifar100_test_acc"],
        ema=0.9,
        graph_pe="topology",
        channels=[*params["train"]["channels"], "cell_tokens"],
    )
    params["tart_grid"].update(train_sizes=[50, 100], seeds=[0, 1], workers=2, overrides={50: {"epochs": 3}, 100: {}})
    params["evaluate"]["bootstrap"] = 20
    params["baselines"].update(train_sizes=[50, 100], seeds=[0, 1])
    params["narformer"].update(train_sizes=[100], seeds=[0], epochs=2, eval_every=1, n_layers=1, d_ff=32)
    params["tgnas"].update(train_sizes=[100], seeds=[0], epochs=2, eval_every=1, width=16, n_layers=1)
    params["proxies"].update(sample=6, batch_size=4, bootstrap=20, workers=1)
    return params


def run_stages(workspace: Path) -> dict[str, list[str]]:
    """{stage name: its declared outputs (metrics and plots too)} of a DVC workspace as DVC resolves them: a
    `foreach` stage once per item (`STAGE@ITEM`), `${...}` filled in from its params.yaml."""
    from dvc.repo import Repo

    with Repo(str(workspace)) as repo:
        return {stage.name: [out.def_path for out in stage.outs] for stage in repo.index.stages}


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
    (work / "params.yaml").write_text(yaml.safe_dump(tiny_pipeline_params(), sort_keys=False))
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


CHANNELS = ("tokens", "shape_tokens", "near_tokens", "far_tokens")


def synthetic_tokens(tmp_path, n=60):
    """Chains of convs and pools whose label is the number of convs: learnable from the tokens."""
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for net in range(n):
        prims = [9] + list(rng.choice([4, 0], size=rng.integers(3, 12)))
        k = len(prims)
        graph = {
            "net": net, "split": "s", "num_nodes": k, "primitives": prims, "cells": [0] * k,
            "shapes": [[8, 8, 3, 3] if p == 4 else [] for p in prims],
            "edge_src": list(range(k - 1)), "edge_dst": list(range(1, k)),
        }  # fmt: skip
        rows.append(tokenize_row(graph, vocabulary()))
        labels.append(float(prims.count(4)))
    files.write_table(pa.Table.from_pylist(rows, schemas.TOKENS), tmp_path / "tokens-00000.parquet", schemas.TOKENS)
    import json

    (tmp_path / "vocab.json").write_text(json.dumps(vocabulary()))
    return load_tokens(tmp_path, CHANNELS), np.array(labels)


def synthetic_params(tmp_path, n=60):
    """Params whose paths point at `synthetic_tokens` and labels that follow them (the number of convs, ties broken
    by index), with a small, fast `train` recipe: a model that learns anything ranks these nets well. No teacher:
    the nets are not NB201 cells (`with_archs` labels them with some)."""
    _, convs = synthetic_tokens(tmp_path, n)
    acc = 50 + 4 * convs + np.linspace(0, 1, n)
    labels = pa.table({"net": np.arange(n), "params": np.arange(n) % 7, **{c: acc for c in (
        "cifar10_valid_val_acc", "cifar10_test_acc", "cifar100_test_acc", "imagenet16_test_acc")}})  # fmt: skip
    pq.write_table(labels, tmp_path / "labels.parquet")
    p = load_params()
    train = p.train.model_copy(update={"epochs": 1, "d_model": 16, "d_ff": 32, "n_layers": 1, "n_heads": 2,
                                       "batch_size": 8, "channels": [*CHANNELS, "cell_tokens"],
                                       "teacher": "none"})  # fmt: skip
    paths = p.paths.model_copy(update={"tokens": tmp_path, "labels": tmp_path / "labels.parquet",
                                       "resume": tmp_path / "resume"})  # never the repository's own state
    return p.model_copy(update={"train": train, "paths": paths, "split": p.split.model_copy(update={"val_size": 10})})


def linear_features(n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """Four random features per net and a noisy label that the first two decide: what a feature model should rank
    well above chance on nets it was not fit to."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n, 4))
    return x, x[:, 0] + 0.5 * x[:, 1] + rng.normal(0, 0.3, n)


def closed_cells(n: int, members: int = 10) -> list[str]:
    """`n` NB201 arch strings: first `members` cells that are not their function class's representative, then
    representatives only, among them those of the first cells (so every class present is whole)."""
    cells = all_arch_ops()
    reps = representative_cells(cells)
    own = [cell for cell, rep in zip(cells, reps) if cell == rep]
    taken = [cell for cell, rep in zip(cells, reps) if cell != rep and rep in own[: n - members]][:members]
    assert len(taken) == members
    return [arch_string(cell) for cell in taken + own[: n - members]]


def with_archs(tmp_path):
    p = synthetic_params(tmp_path)
    labels = pq.read_table(p.paths.labels)
    pq.write_table(labels.append_column("arch", pa.array(closed_cells(labels.num_rows))), p.paths.labels)
    return p


def yaml_params() -> dict:
    """params.yaml as plain data."""
    return yaml.safe_load((ROOT / "params.yaml").read_text())


def train_settings(**overrides) -> Train:
    """The `train` section of params.yaml with `overrides`: tests state only what they change."""
    return settings("train", **overrides)


def narformer_section(**overrides) -> NarFormer:
    """The `narformer` section of params.yaml with `overrides`."""
    return settings("narformer", **overrides)


def fit_config(**overrides) -> FitConfig:
    """The cell models' fit recipe as params.yaml's `narformer` section gives it, with `overrides`."""
    return dataclasses.replace(configs_from(narformer_section(), NarFormerConfig)[0], **overrides)


def settings(section: str, **overrides):
    """Any params.yaml section as its typed model, with `overrides`."""
    return Params.model_fields[section].annotation(**{**yaml_params()[section], **overrides})


def small_tart_config(**overrides) -> TartConfig:
    """A small TART model for unit tests: one token channel, no dropout, plain attention, no graph encoding."""
    base = dict(vocab_sizes=(16,), max_len=8, d_model=16, n_layers=1, n_heads=2, d_ff=32, dropout=0.0,
                attention_dropout=0.0, positions="learned", attention_bias="none", graph_pe="none", pe_dim=8)
    return TartConfig(**{**base, **overrides})


def die_once(job: tuple[Path, int]) -> int:
    """A Dask job that kills its worker process the first time it runs (a lost worker), then returns its value."""
    marker, value = job
    if not marker.exists():
        marker.write_text("died")
        os._exit(1)
    return value


def always_die(job: int) -> int:
    os._exit(1)


def fail_on_three(job: int) -> int:
    if job == 3:
        raise ValueError("job three is bad input")
    return job * job
