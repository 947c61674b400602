"""Typed, frozen view of `params.yaml`, the single source of truth for every stage: the models below carry no
default values (every value lives in params.yaml), reject unknown keys and forbid changes after loading."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Paths(Section):
    manifest: Path
    raw: Path
    build: Path
    nb201_h5: Path
    nb201_meta: Path
    labels: Path
    node_shapes: Path
    graphs: Path
    tokens: Path
    split: Path
    model: Path
    predictions: Path
    reports: Path
    figures: Path
    resume: Path


class Fetch(Section):
    mirror: str | None
    files: list[str]


class Executor(Section):
    """Where the fan-out stages (build, extract, tokenize, proxies) and `tart generate` / `tart screen` run their
    jobs (tart/core/parallel.py); the outputs do not depend on it."""

    kind: Literal["local", "dask"]
    scheduler: str | None = Field(description="dask: the scheduler's address; null = a LocalCluster on this machine")


class Build(Section):
    split: str
    limit: int | None = Field(ge=1, description="build only the first N NB201 indices (tiny profiles)")
    workers: int = Field(ge=1)
    chunk: int = Field(ge=1)


class Extract(Section):
    repair: Literal["report", "error", "keep_first_in_edge"]
    shard_size: int = Field(ge=1)


class Tokenize(Section):
    scheme: Literal["tart"]


class Split(Section):
    train_size: int = Field(ge=1)
    val_size: int = Field(ge=1)


class Train(Section):
    seed: int
    target: str
    aux_targets: list[str] = Field(description="label columns of extra heads, trained with the first")
    aux_weight: float = Field(ge=0, description="weight of each extra head's loss")
    target_transform: Literal["rank", "zscore"]
    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int
    dropout: float = Field(ge=0, lt=1, description="dropout on residual branches")
    attention_dropout: float = Field(ge=0, lt=1, description="dropout on attention weights (slow on CPU)")
    positions: Literal["learned", "none"]
    attention_bias: Literal["none", "edges", "paths"]
    channels: list[Literal["tokens", "shape_tokens", "cell_tokens", "near_tokens", "far_tokens"]]
    graph_pe: Literal["none", "laplacian", "random_walk", "topology"] = Field(
        description="graph positional encoding added to the tokens (tart/tokens/positional.py)"
    )
    pe_dim: int = Field(ge=1, description="width of the laplacian / random_walk encodings")
    precision: Literal["fp32", "bf16"] = Field(description="bf16: autocast (the GPU profile)")
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    rank_weight: float
    ema: float | None = Field(ge=0, lt=1, description="EMA decay of the weights; null = no EMA")
    teacher: Literal["none", "gbm_canonical", "gp_gbm_canonical"] = Field(
        description="also fit to this model's scores of unlabelled nets (tart/training/distill.py); NB201 only"
    )
    unlabelled: int | None = Field(ge=0, description="how many unlabelled nets the teacher scores; null = all")
    threads: int
    device: Literal["auto", "cpu", "cuda"]


class Evaluate(Section):
    test_label: str
    bootstrap: int = Field(ge=10)
    seed: int
    round_digits: int | None


class Figures(Section):
    example_net: int


class Baselines(Section):
    """Predictors the models are judged against (tart/baselines/baselines.py), on the NB201 protocol."""

    predictors: list[Literal["params", "flops_nb201", "flops_2mac", "ridge_onehot", "gbm_onehot", "rf_onehot",
                             "gbm_paths", "rf_paths", "gbm_canonical", "rf_canonical", "gbm_canonical_cifar100",
                             "gp_canonical", "gp_gbm_canonical"]]
    train_sizes: list[int] = Field(min_length=1, description="first N nets by index: 5% and 10%")
    seeds: list[int] = Field(min_length=1)
    threads: int = Field(ge=1)


class CellModelTraining(Section):
    """What the cell-DAG rivals share: training-set sizes, seeds and the NAR-Former-style recipe."""

    train_sizes: list[int] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    # raw: the cell as written (the published form, dead ops included); live: ops off every input-output path
    # become none, as in the built network (a second row, `<name>_live`); canonical: the live ops of the cell's
    # function-class representative (`<name>_canonical`)
    cell_inputs: list[Literal["raw", "live", "canonical"]] = Field(min_length=1)
    dropout: float = Field(ge=0, lt=1)
    epochs: int = Field(ge=1)
    batch_size: int = Field(ge=2)
    lr: float = Field(gt=0)
    weight_decay: float
    warmup: float = Field(ge=0, lt=1)
    ema: float = Field(ge=0, lt=1)
    rank_weight: float
    consistency_weight: float
    target_transform: Literal["rank", "unit"]
    eval_every: int = Field(ge=1)
    threads: int = Field(ge=1, description="shared by the fits that run at once")
    device: Literal["auto", "cpu", "cuda"]
    workers: int = Field(ge=1, description="fits in parallel (processes), each on threads // workers threads")


class NarFormer(CellModelTraining):
    """The NAR-Former-style rival (tart/models/narformer.py, tart/training/narformer.py). params.yaml holds a CPU
    profile; the published recipe is n_freq 32, 6 layers, 6 heads, d_ff 768, 4000 epochs, lr 1e-4, target_transform
    unit."""

    n_freq: int = Field(ge=1)
    n_layers: int = Field(ge=1)
    n_heads: int = Field(ge=1)
    d_ff: int = Field(ge=1)

    @model_validator(mode="after")
    def heads_divide_width(self) -> NarFormer:
        if (6 * self.n_freq) % self.n_heads:
            raise ValueError(
                f"narformer: token width 6 * n_freq = {6 * self.n_freq} is not divisible by n_heads = {self.n_heads}"
            )
        return self


class TgNas(CellModelTraining):
    """The TG-NAS-style GCN on op-description embeddings (tart/models/tgnas.py), trained like the NAR-Former-style
    model."""

    width: int = Field(ge=1)
    n_layers: int = Field(ge=1)


class Proxies(Section):
    """Zero-cost proxies of NB201 nets (tart/baselines/zero_cost.py): one CIFAR-10 minibatch, fresh seeded weights."""

    images: Path
    scores: Path
    sample: int | None = Field(ge=2, description="nets scored (seeded sample); null = all 15,625")
    seed: int
    batch_size: int = Field(ge=2)
    bootstrap: int = Field(ge=1)
    workers: int | None = Field(ge=1, description="processes; null = one per usable core")


class Retrain(Section):
    """The scheduled retraining deployment (flows/retrain.py); not a DVC stage."""

    deployment: str
    cron: str | None = Field(description="cron schedule (server time zone below)")
    interval_s: int | None = Field(ge=5, description="fixed interval instead of cron (tests, demos)")
    timezone: str
    command: list[str] = Field(min_length=1, description="what one retraining run executes")
    retries: int = Field(ge=0)
    retry_delay_s: int = Field(ge=0)
    lock: Path
    primary_metric: str

    @model_validator(mode="after")
    def one_schedule(self) -> Retrain:
        if (self.cron is None) == (self.interval_s is None):
            raise ValueError("retrain: set exactly one of cron and interval_s")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"retrain.cron {self.cron!r}: expected 5 fields (minute hour day month weekday)")
        return self


class Generate(Section):
    """Defaults of `tart generate` (our DeepNets-1M-style generator); not a DVC stage."""

    variant: Literal["default", "wide", "deep", "dense", "bnfree"]
    seed: int
    shard_size: int = Field(ge=1)
    workers: int | None = Field(ge=1, description="processes (default: one per usable core)")


# What the grid's fits share, so no training-set size may change it: the labels (target, extra heads), the tokens
# the workers load (channels, encodings) and what each fit is given (seed, threads, device).
GRID_SHARED = ("seed", "target", "aux_targets", "channels", "graph_pe", "pe_dim", "threads", "device")


class TartGrid(Section):
    """TART refit at every (train size, seed) for the comparison table (the `tart_grid` stage): the `train` recipe,
    with `overrides` at the sizes where validation chose otherwise."""

    train_sizes: list[int] = Field(min_length=1, description="first N nets by index: 5% and 10%")
    seeds: list[int] = Field(min_length=1)
    workers: int = Field(ge=1, description="fits in parallel; train.threads is split among them")
    overrides: dict[int, dict[str, object]] = Field(
        description="per training-set size: `train` keys that take another value at that size ({} for none)"
    )

    @model_validator(mode="after")
    def overrides_name_grid_sizes(self) -> TartGrid:
        stray = sorted(set(self.overrides) - set(self.train_sizes))
        if stray:
            raise ValueError(f"tart_grid.overrides: sizes {stray} are not in tart_grid.train_sizes {self.train_sizes}")
        # each size is its own DVC stage whose params are its own entry, so a size without one could not run
        missing = [n for n in self.train_sizes if n not in self.overrides]
        if missing:
            raise ValueError(f"tart_grid.overrides: no entry for sizes {missing}; every size in train_sizes needs one "
                             f"(`{missing[0]}: {{}}` keeps the train recipe unchanged)")  # fmt: skip
        return self

    def recipe(self, train: Train, n_train: int) -> Train:
        """The `train` recipe with this size's overrides, validated like the `train` section."""
        change = self.overrides.get(n_train, {})
        shared = [key for key in change if key in GRID_SHARED]
        if shared:
            raise ValueError(f"tart_grid.overrides[{n_train}]: {shared} cannot differ by training-set size (the "
                             f"grid's fits share {', '.join(GRID_SHARED)})")  # fmt: skip
        try:
            return Train.model_validate({**train.model_dump(), **change})
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"tart_grid.overrides[{n_train}]: {problems}") from None


class Latency(Section):
    batch_size: int = Field(ge=1)
    warmup: int = Field(ge=0)
    repeats: int = Field(ge=1)
    threads: int = Field(ge=1)
    device: Literal["cpu", "cuda"]


class Properties(Section):
    """Self-measured labels of DARTS-style nets (`tart properties`); the latency protocol lives here."""

    latency: Latency


class DeepNets1MProtocol(Section):
    """The DeepNets-1M property protocol profile (profiles/deepnets1m/dvc.yaml); needs the published eval file."""

    eval_h5: Path | None = Field(description="published deepnets1m_eval.hdf5 (docs/data.md)")
    eval_meta: Path | None = Field(description="deepnets1m_eval_meta.json from deepnets1m_meta.tar.gz")
    eval_md5: str | None
    labels: Path
    properties: list[Literal["val_acc", "val_acc_noise", "time", "converge_time", "test_acc"]]
    fit_split: str
    test_split: str
    repair: Literal["report", "error", "keep_first_in_edge"]
    seeds: list[int] = Field(min_length=1)
    holdout: int = Field(ge=1, description="fit nets held out to pick TART's best epoch")
    svr_c: list[float]
    svr_gamma: list[float | Literal["scale"]]
    svr_epsilon: list[float]
    svr_folds: int = Field(ge=2)
    train: Train


class Params(Section):
    paths: Paths
    executor: Executor
    fetch: Fetch
    build: Build
    extract: Extract
    tokenize: Tokenize
    split: Split
    train: Train
    evaluate: Evaluate
    figures: Figures
    baselines: Baselines
    narformer: NarFormer
    tgnas: TgNas
    tart_grid: TartGrid
    proxies: Proxies
    retrain: Retrain
    generate: Generate
    properties: Properties
    deepnets1m_protocol: DeepNets1MProtocol

    @model_validator(mode="after")
    def grid_recipes_valid(self) -> Params:
        for n_train in self.tart_grid.overrides:
            self.tart_grid.recipe(self.train, n_train)
        return self


PARAMS_ENV = "TART_PARAMS"


def params_path(path: Path | None = None) -> Path:
    """The params file: `path` when given, else $TART_PARAMS, else params.yaml in the working directory."""
    return Path(path) if path is not None else Path(os.environ.get(PARAMS_ENV, "params.yaml"))


class ParamsError(ValueError):
    """A params file that is missing or does not validate (the message names the file and the fields)."""


def load_params(path: Path | None = None) -> Params:
    """Parse and validate the params file (see `params_path`); a missing or unknown key is an error."""
    source = params_path(path)
    if not source.is_file():
        raise ParamsError(f"{source}: no such params file; run from the repository root, pass --params, or set "
                          f"{PARAMS_ENV}")  # fmt: skip
    raw = yaml.safe_load(source.read_text())
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError(f"{source}: {exc}") from exc
