"""Typed, frozen view of `params.yaml`: the single source of truth for every stage."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


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


class Fetch(Section):
    mirror: str | None = None
    files: list[str]


class Build(Section):
    split: str = "nb201"
    limit: int | None = Field(None, ge=1, description="build only the first N NB201 indices (tiny profiles)")
    workers: int = Field(2, ge=1)
    chunk: int = Field(250, ge=1)


class Extract(Section):
    repair: Literal["report", "error", "keep_first_in_edge"] = "report"
    shard_size: int = Field(50_000, ge=1)


class Tokenize(Section):
    scheme: Literal["tart"] = "tart"


class Split(Section):
    train_size: int = Field(1563, ge=1)
    val_size: int = Field(200, ge=1)


class Train(Section):
    seed: int = 0
    target: str = "cifar10_valid_val_acc"
    aux_targets: list[str] = Field([], description="label columns of extra heads, trained with the first")
    aux_weight: float = Field(1.0, ge=0, description="weight of each extra head's loss")
    target_transform: Literal["rank", "zscore"] = "rank"
    d_model: int = 64
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 128
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout on residual branches")
    attention_dropout: float = Field(0.0, ge=0, lt=1, description="dropout on attention weights (slow on CPU)")
    positions: Literal["learned", "none"] = "learned"
    attention_bias: Literal["none", "edges", "paths"] = "none"
    channels: list[Literal["tokens", "shape_tokens", "cell_tokens", "near_tokens", "far_tokens"]] = ["tokens"]
    graph_pe: Literal["none", "laplacian", "random_walk", "topology"] = Field(
        "none", description="graph positional encoding added to the tokens (tart/graph_pe.py)"
    )
    pe_dim: int = Field(8, ge=1, description="width of the laplacian / random_walk encodings")
    precision: Literal["fp32", "bf16"] = Field("fp32", description="bf16: autocast (the GPU profile)")
    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-3
    rank_weight: float = 0.1
    ema: float | None = Field(None, ge=0, lt=1, description="EMA decay of the weights; null = no EMA")
    threads: int = 2
    device: Literal["auto", "cpu", "cuda"] = "auto"


class Evaluate(Section):
    test_label: str = "cifar10_test_acc"
    bootstrap: int = Field(1000, ge=10)
    seed: int = 0
    round_digits: int | None = None


class Figures(Section):
    example_net: int = 1


class Baselines(Section):
    """Predictors the models are judged against (tart/baselines.py), on the NB201 protocol."""

    predictors: list[Literal["params", "flops", "ridge_onehot", "gbm_onehot", "rf_onehot", "gbm_paths", "rf_paths",
                             "gbm_canonical", "rf_canonical", "gbm_canonical_cifar100"]] = [
        "params", "flops", "ridge_onehot", "gbm_onehot", "rf_onehot", "gbm_paths", "rf_paths", "gbm_canonical",
        "rf_canonical", "gbm_canonical_cifar100"]  # fmt: skip
    train_sizes: list[int] = Field([781, 1563], min_length=1, description="first N nets by index: 5% and 10%")
    seeds: list[int] = Field([0, 1, 2, 3, 4], min_length=1)
    threads: int = Field(2, ge=1)


class CellModelTraining(Section):
    """What the cell-DAG rivals share: training-set sizes, seeds and the NAR-Former-style recipe."""

    train_sizes: list[int] = Field([781, 1563], min_length=1)
    seeds: list[int] = Field([0], min_length=1)
    # raw: the cell as written (the published form, dead ops included); live: ops off every input-output path
    # become none, as in the built network (a second row, `<name>_live`); canonical: the live ops of the cell's
    # function-class representative (`<name>_canonical`)
    cell_inputs: list[Literal["raw", "live", "canonical"]] = Field(["raw"], min_length=1)
    dropout: float = Field(0.1, ge=0, lt=1)
    epochs: int = Field(150, ge=1)
    batch_size: int = Field(128, ge=2)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = 0.01
    warmup: float = Field(0.1, ge=0, lt=1)
    ema: float = Field(0.99, ge=0, lt=1)
    rank_weight: float = 0.1
    consistency_weight: float = 0.5
    target_transform: Literal["rank", "unit"] = "rank"
    eval_every: int = Field(10, ge=1)
    threads: int = Field(2, ge=1, description="shared by the fits that run at once")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    workers: int = Field(1, ge=1, description="fits in parallel (processes), each on threads // workers threads")


class NarFormer(CellModelTraining):
    """The NAR-Former-style rival (tart/narformer.py, tart/train_narformer.py). Defaults: a CPU profile; the
    published recipe is n_freq 32, 6 layers, 6 heads, d_ff 768, 4000 epochs, lr 1e-4, target_transform unit."""

    n_freq: int = Field(16, ge=1)
    n_layers: int = Field(2, ge=1)
    n_heads: int = Field(4, ge=1)
    d_ff: int = Field(256, ge=1)

    @model_validator(mode="after")
    def heads_divide_width(self) -> NarFormer:
        if (6 * self.n_freq) % self.n_heads:
            raise ValueError(
                f"narformer: token width 6 * n_freq = {6 * self.n_freq} is not divisible by n_heads = {self.n_heads}"
            )
        return self


class TgNas(CellModelTraining):
    """The TG-NAS-style GCN on op-description embeddings (tart/tgnas.py), trained like the NAR-Former-style model."""

    seeds: list[int] = Field([0, 1, 2, 3, 4], min_length=1)
    width: int = Field(64, ge=1)
    n_layers: int = Field(3, ge=1)
    epochs: int = Field(200, ge=1)
    weight_decay: float = 5e-4
    consistency_weight: float = 0.0  # a GCN gives every renumbering the same output
    eval_every: int = Field(5, ge=1)


class Proxies(Section):
    """Zero-cost proxies of NB201 nets (tart/proxies.py): one CIFAR-10 minibatch, fresh seeded weights."""

    images: Path = Path("data/raw/cifar10_jpeg/cifar10_jpeg_q75_train20k_test10k.npz")
    scores: Path = Path("data/proxies/proxies.parquet")
    sample: int | None = Field(1000, ge=2, description="nets scored (seeded sample); null = all 15,625")
    seed: int = 0
    batch_size: int = Field(32, ge=2)
    bootstrap: int = Field(1000, ge=1)
    workers: int | None = Field(None, ge=1, description="processes; null = one per usable core")


class Retrain(Section):
    """The scheduled retraining deployment (flows/retrain.py); not a DVC stage."""

    deployment: str = "tart-retrain"
    cron: str | None = Field("0 4 * * 1", description="cron schedule (server time zone below)")
    interval_s: int | None = Field(None, ge=5, description="fixed interval instead of cron (tests, demos)")
    timezone: str = "UTC"
    command: list[str] = Field(["dvc", "repro"], min_length=1, description="what one retraining run executes")
    retries: int = Field(1, ge=0)
    retry_delay_s: int = Field(600, ge=0)
    lock: Path = Path(".tart/retrain.lock")
    primary_metric: str = "test_all.kendall_tau_b"

    @model_validator(mode="after")
    def one_schedule(self) -> Retrain:
        if (self.cron is None) == (self.interval_s is None):
            raise ValueError("retrain: set exactly one of cron and interval_s")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"retrain.cron {self.cron!r}: expected 5 fields (minute hour day month weekday)")
        return self


class Generate(Section):
    """Defaults of `tart generate` (our DeepNets-1M-style generator); not a DVC stage."""

    variant: Literal["default", "wide", "deep", "dense", "bnfree"] = "default"
    seed: int = 0
    shard_size: int = Field(10_000, ge=1)
    workers: int | None = Field(None, ge=1, description="processes (default: one per usable core)")


class TartGrid(Section):
    """TART refit at every (train size, seed) for the comparison table (the `tart_grid` stage, `train` recipe)."""

    train_sizes: list[int] = Field([781, 1563], min_length=1, description="first N nets by index: 5% and 10%")
    seeds: list[int] = Field([0, 1, 2, 3, 4], min_length=1)
    workers: int = Field(2, ge=1, description="fits in parallel; train.threads is split among them")


class Latency(Section):
    batch_size: int = Field(1, ge=1)
    warmup: int = Field(5, ge=0)
    repeats: int = Field(20, ge=1)
    threads: int = Field(1, ge=1)
    device: Literal["cpu", "cuda"] = "cpu"


class Properties(Section):
    """Self-measured labels of DARTS-style nets (`tart properties`); the latency protocol lives here."""

    latency: Latency = Latency()


class DeepNets1MProtocol(Section):
    """The DeepNets-1M property protocol profile (profiles/deepnets1m/dvc.yaml); needs the published eval file."""

    eval_h5: Path | None = Field(None, description="published deepnets1m_eval.hdf5 (see README)")
    eval_meta: Path | None = Field(None, description="deepnets1m_eval_meta.json from deepnets1m_meta.tar.gz")
    eval_md5: str | None = "1f5641329271583ad068f43e1521517e"
    labels: Path = Path("data/raw/deepnets1m_ppuda/results_cifar10.json")
    properties: list[Literal["val_acc", "val_acc_noise", "time", "converge_time", "test_acc"]] = [
        "val_acc", "val_acc_noise", "time", "converge_time"]  # fmt: skip
    fit_split: str = "val"
    test_split: str = "test"
    repair: Literal["report", "error", "keep_first_in_edge"] = "keep_first_in_edge"
    seeds: list[int] = Field([0, 1, 2, 3, 4], min_length=1)
    holdout: int = Field(50, ge=1, description="fit nets held out to pick TART's best epoch")
    svr_c: list[float] = [0.1, 1.0, 10.0, 100.0]
    svr_gamma: list[float | Literal["scale"]] = ["scale", 0.01, 0.1, 1.0]
    svr_epsilon: list[float] = [0.01, 0.1, 0.5]
    svr_folds: int = Field(5, ge=2)
    train: Train = Train(channels=["tokens", "near_tokens", "far_tokens"], attention_bias="edges", dropout=0.1,
                         epochs=40, batch_size=32, lr=0.002, target="val_acc")  # fmt: skip


class Params(Section):
    paths: Paths
    fetch: Fetch
    build: Build
    extract: Extract
    tokenize: Tokenize
    split: Split
    train: Train
    evaluate: Evaluate
    figures: Figures
    baselines: Baselines = Baselines()
    narformer: NarFormer = NarFormer()
    tgnas: TgNas = TgNas()
    tart_grid: TartGrid = TartGrid()
    proxies: Proxies = Proxies()
    retrain: Retrain = Retrain()
    generate: Generate = Generate()
    properties: Properties = Properties()
    deepnets1m_protocol: DeepNets1MProtocol = DeepNets1MProtocol()


def load_params(path: Path = Path("params.yaml")) -> Params:
    """Parse and validate `params.yaml`; unknown keys are errors."""
    with open(path) as fh:
        raw = yaml.safe_load(fh)
    return Params.model_validate(raw)
