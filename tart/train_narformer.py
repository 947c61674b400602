"""Training of the NAR-Former-style predictor on NB201 cells: MSE + pairwise-difference ranking loss + L1
consistency between a cell and a renumbered copy, AdamW with warm-up and linear decay, EMA weights, and the
best EMA checkpoint by Kendall tau on the validation nets."""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from scipy import stats
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from tart import schemas
from tart.cell_function import representative_cells
from tart.cell_paths import live_ops
from tart.cells import adjacency, cell_ops, renumber, renumberings
from tart.metrics import TRANSFER_LABELS, score_run, summarize_runs
from tart.narformer import NarFormerConfig, NarFormerModel
from tart.parallel import parallel_map
from tart.spaces.nb201 import arch_ops, arch_string
from tart.train import kept_state, pick_device, seed_everything


@dataclass(frozen=True)
class FitConfig:
    epochs: int = 200
    batch_size: int = 128
    lr: float = 1e-4
    weight_decay: float = 0.01
    warmup: float = 0.1  # fraction of steps with a linear warm-up, then linear decay to 0
    ema: float = 0.99
    rank_weight: float = 0.1
    consistency_weight: float = 0.5
    target_transform: str = "rank"  # "rank": training ranks scaled to (0, 1); "unit": accuracy / 100 (published)
    eval_every: int = 5
    seed: int = 0
    threads: int = 2  # shared by the fits that run at once
    device: str = "auto"
    workers: int = 1  # fits in parallel (processes), each on threads // workers threads


def pick_config(cls, section: object):
    """A dataclass config from a params section, matched by field name (absent fields keep defaults)."""
    return cls(**{f.name: getattr(section, f.name) for f in dataclasses.fields(cls) if hasattr(section, f.name)})


def configs_from(section: object) -> tuple[FitConfig, NarFormerConfig]:
    """Training and model settings of the NAR-Former-style model from its params section."""
    return pick_config(FitConfig, section), pick_config(NarFormerConfig, section)


def pairwise_difference_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean |(p_i - p_j) - (y_i - y_j)| over all pairs: the predicted gaps should match the true gaps."""
    return ((pred[:, None] - pred[None, :]) - (target[:, None] - target[None, :])).abs().mean()


def unit_targets(y: np.ndarray, transform: str) -> np.ndarray:
    """Training labels in (0, 1) for the sigmoid head. Ranks spread the crowded top of NB201 (most nets within a few
    points of each other) over the whole interval; with accuracy / 100 a CPU-length run barely orders them."""
    if transform == "rank":
        return (stats.rankdata(y) - 0.5) / len(y)
    if transform == "unit":
        return y / 100.0
    raise ValueError(f"target_transform {transform!r}: expected 'rank' or 'unit'")


CELL_INPUTS = ("raw", "live", "canonical")


@dataclass
class CellData:
    ops: torch.Tensor  # (n, 8)
    adj: torch.Tensor  # (n, 8, 8)

    @classmethod
    def from_archs(cls, archs: list[str], cell_input: str = "raw") -> CellData:
        """`cell_input` "live": ops off every input-to-output path become `none` (tart.cell_paths.live_ops);
        "canonical": the live ops of the cell's function-class representative (tart.cell_function), so cells that
        build the same network read the same."""
        if cell_input not in CELL_INPUTS:
            raise ValueError(f"cell_input {cell_input!r}: expected one of {CELL_INPUTS}")
        if cell_input == "live":
            archs = [arch_string(live_ops(arch_ops(arch))) for arch in archs]
        elif cell_input == "canonical":
            archs = [arch_string(ops) for ops in representative_cells([arch_ops(arch) for arch in archs])]
        ops = cell_ops(archs)
        adj = np.broadcast_to(adjacency(), (len(ops), *adjacency().shape))
        return cls(torch.from_numpy(ops), torch.from_numpy(adj.copy()))

    def renumbered(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        table = renumberings()
        new_index = table[rng.integers(len(table), size=len(rows))]
        ops, adj = renumber(self.ops[rows].numpy(), self.adj[rows].numpy(), new_index)
        return torch.from_numpy(ops), torch.from_numpy(adj)


@torch.no_grad()
def predict_cells(model: torch.nn.Module, data: CellData, rows: np.ndarray, batch_size: int = 2048) -> np.ndarray:
    model.eval()
    device = next(model.parameters()).device
    out = [model(data.ops[rows[i : i + batch_size]].to(device), data.adj[rows[i : i + batch_size]].to(device)).cpu()
           for i in range(0, len(rows), batch_size)]  # fmt: skip
    return torch.cat(out).numpy()


def fit_narformer(cfg: FitConfig, model_cfg: NarFormerConfig, data: CellData, train_rows: np.ndarray,
                  y_train: np.ndarray, val_rows: np.ndarray, y_val: np.ndarray):  # fmt: skip
    """y_train: accuracy in %. Returns the best EMA model, curves and run facts."""
    model, curves, facts = fit_cell_model(cfg, lambda: NarFormerModel(model_cfg), data, train_rows, y_train,
                                          val_rows, y_val, "train NAR-Former")  # fmt: skip
    return model, curves, {**facts, "model": model_cfg.to_dict()}


def fit_cell_model(cfg: FitConfig, make_model: Callable[[], torch.nn.Module], data: CellData,
                   train_rows: np.ndarray, y_train: np.ndarray, val_rows: np.ndarray, y_val: np.ndarray,
                   desc: str = "train"):  # fmt: skip
    """Any model of (ops, adj) -> (0, 1) scores, trained with the NAR-Former recipe (losses, schedule, EMA,
    best EMA checkpoint on the validation nets)."""
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    model = make_model().to(device)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema))
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(train_rows) / cfg.batch_size)
    warm = max(1, int(cfg.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    rng = np.random.default_rng(cfg.seed)
    y = torch.tensor(unit_targets(y_train, cfg.target_transform), dtype=torch.float32)
    curves, best, best_state, start = [], -2.0, None, time.perf_counter()
    for epoch in tqdm(range(1, cfg.epochs + 1), desc=desc, unit="epoch"):
        model.train()
        losses = []
        for pick in np.array_split(rng.permutation(len(train_rows)), math.ceil(len(train_rows) / cfg.batch_size)):
            rows = train_rows[pick]
            target = y[pick].to(device)
            pred = model(data.ops[rows].to(device), data.adj[rows].to(device))
            ops2, adj2 = data.renumbered(rows, rng)
            pred2 = model(ops2.to(device), adj2.to(device))
            loss = (F.mse_loss(pred, target) + cfg.rank_weight * pairwise_difference_loss(pred, target)
                    + cfg.consistency_weight * (pred - pred2).abs().mean())  # fmt: skip
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            ema.update_parameters(model)
            losses.append(loss.item())
        if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
            tau = float(stats.kendalltau(predict_cells(ema.module, data, val_rows), y_val).statistic)
            curves.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_kendall_tau_b": tau})
            if tau > best:
                best, best_state = tau, copy.deepcopy(ema.module.state_dict())
    model.load_state_dict(kept_state(best_state, len(val_rows)))
    facts = {"device": str(device), "train_seconds": round(time.perf_counter() - start, 1),
             "best_epoch": max(curves, key=lambda c: c["val_kendall_tau_b"])["epoch"], "best_val_kendall_tau_b": best,
             "fit": dataclasses.asdict(cfg)}  # fmt: skip
    return model, curves, facts


def narformer_from_files(labels_path: Path, target: str, test_label: str, train_sizes: list[int], seeds: list[int],
                         val_size: int, fit: FitConfig, model_cfg: NarFormerConfig, out_path: Path,
                         progress: Callable[[str], None] | None = None,
                         cell_inputs: tuple[str, ...] = ("raw",)) -> dict:  # fmt: skip
    """The `narformer` stage (see `cell_model_from_files`)."""
    return cell_model_from_files("narformer", partial(NarFormerModel, model_cfg), model_cfg.to_dict(), labels_path,
                                 target, test_label, train_sizes, seeds, val_size, fit, out_path, progress,
                                 cell_inputs)  # fmt: skip


# What every fit of one stage shares, set once per worker process (`load_fit_context`).
_FIT_CONTEXT: dict = {}


def load_fit_context(make_model: Callable[[], torch.nn.Module], archs: list[str], cell_inputs: tuple[str, ...],
                     y: np.ndarray, val_size: int) -> None:  # fmt: skip
    data = {cell_input: CellData.from_archs(archs, cell_input) for cell_input in cell_inputs}
    _FIT_CONTEXT.update(make_model=make_model, data=data, y=y, val_size=val_size)


def fit_and_predict(job: tuple[FitConfig, str, int, str]) -> tuple[np.ndarray, dict]:
    """One fit on the first `n_train` nets (validated on the next `val_size`); its predictions for all nets."""
    cfg, cell_input, n_train, desc = job
    context = _FIT_CONTEXT
    data, y = context["data"][cell_input], context["y"]
    train_rows, val_rows = np.arange(n_train), np.arange(n_train, n_train + context["val_size"])
    model, _, facts = fit_cell_model(cfg, context["make_model"], data, train_rows, y[train_rows], val_rows,
                                     y[val_rows], desc)  # fmt: skip
    return predict_cells(model, data, np.arange(len(y))), facts


def cell_model_from_files(predictor: str, make_model: Callable[[], torch.nn.Module], model_dict: dict,
                          labels_path: Path, target: str, test_label: str, train_sizes: list[int], seeds: list[int],
                          val_size: int, fit: FitConfig, out_path: Path,
                          progress: Callable[[str], None] | None = None,
                          cell_inputs: tuple[str, ...] = ("raw",)) -> dict:  # fmt: skip
    """A cell-DAG model's stage: fit on the first N nets, validate on the next `val_size`, score all nets; one run
    per (cell input, N, seed), `fit.workers` at a time on `fit.threads // fit.workers` threads each, summarized
    like the baselines. The "live" cell input reports as `<predictor>_live`. `make_model` must pickle (a
    `functools.partial`, not a lambda) when fits run in worker processes."""
    names = ["net", "arch", target, test_label, *TRANSFER_LABELS]
    table = pq.read_table(labels_path, columns=list(dict.fromkeys(names))).sort_by("net").to_pydict()
    transfer = {label: np.array(table[label]) for label in TRANSFER_LABELS}
    y, z = np.array(table[target]), np.array(table[test_label])
    for n_train in train_sizes:
        if n_train + val_size >= len(y):
            raise ValueError(f"{predictor} train size {n_train} + {val_size} validation nets: only {len(y)} nets")
    threads = max(1, fit.threads // fit.workers)
    keys = [(cell_input, predictor if cell_input == "raw" else f"{predictor}_{cell_input}", n_train, seed)
            for cell_input in cell_inputs for n_train in train_sizes for seed in seeds]  # fmt: skip
    jobs = [(dataclasses.replace(fit, seed=seed, threads=threads), cell_input, n_train, f"train {name}")
            for cell_input, name, n_train, seed in keys]  # fmt: skip
    context = (make_model, table["arch"], tuple(cell_inputs), y, val_size)
    rows = []
    for (_, name, n_train, seed), (pred, facts) in zip(
        keys, parallel_map(fit_and_predict, jobs, fit.workers, load_fit_context, context), strict=True
    ):
        rows.append({"predictor": name, "n_train": n_train, "seed": seed,
                     "fit_seconds": facts["train_seconds"], "best_epoch": facts["best_epoch"],
                     **score_run(pred, z, n_train, transfer), "device": facts["device"]})  # fmt: skip
        if progress:
            progress(f"{name} n={n_train} seed={seed}: tau {rows[-1]['kendall_tau_b']:.4f} "
                     f"({facts['train_seconds']:.0f} s)")  # fmt: skip
    report = {"train_label": target, "test_label": test_label, "n_nets": len(y), "model": model_dict,
              "fit": dataclasses.asdict(fit), "cell_inputs": list(cell_inputs), "baselines": summarize_runs(rows),
              "runs": rows}  # fmt: skip
    schemas.write_json(report, out_path)
    return report
