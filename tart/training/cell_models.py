"""What the cell-DAG rivals share (NAR-Former-style and TG-NAS-style): NB201 cells as (ops, adjacency) tensors,
the recipe's fit through the training loop, and the stage that fits one model per (cell input, size, seed)."""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
import torch.nn.functional as F
from scipy import stats

from tart.core import files
from tart.core.metrics import TRANSFER_LABELS, score_run, summarize_runs
from tart.core.parallel import parallel_map
from tart.core.params import CellModelTraining
from tart.spaces.nb201.cell_function import representative_cells
from tart.spaces.nb201.cell_paths import live_ops
from tart.spaces.nb201.cells import adjacency, cell_ops, renumber, renumberings
from tart.spaces.nb201.network import arch_ops, arch_string
from tart.training.loop import Schedule, best_of, pick_device, seed_everything, train_epochs
from tart.training.losses import pairwise_difference_loss
from tart.training.resume import StateFile, clear_stage, fit_key, resumable_fit
from tart.training.targets import unit_targets


@dataclass(frozen=True)
class FitConfig:
    """The cell models' training recipe (the fit fields of the `narformer` / `tgnas` params sections)."""

    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    warmup: float  # fraction of steps with a linear warm-up, then linear decay to 0
    ema: float
    rank_weight: float
    consistency_weight: float
    target_transform: str  # "rank": training ranks scaled to (0, 1); "unit": accuracy / 100 (published)
    eval_every: int
    seed: int
    threads: int  # shared by the fits that run at once
    device: str
    workers: int  # fits in parallel (processes), each on threads // workers threads


# Fields of a cell-model params section that describe the stage's grid, not one fit or the model.
GRID_FIELDS = ("train_sizes", "seeds", "cell_inputs")


def configs_from(section: CellModelTraining, model_cls: type) -> tuple[FitConfig, object]:
    """The fit and model configs a params section describes. Every section field must land in one of them (or be
    a grid field), and every config field must come from the section: a field on one side only is an error, so
    the section and the configs cannot drift apart. The fit's seed is the section's first; each run replaces it."""
    given = section.model_dump()
    fit_names = {f.name for f in dataclasses.fields(FitConfig)} - {"seed"}
    model_names = {f.name for f in dataclasses.fields(model_cls) if f.default is dataclasses.MISSING}
    missing = sorted((fit_names | model_names) - set(given))
    unknown = sorted(set(given) - fit_names - model_names - set(GRID_FIELDS))
    if missing or unknown:
        raise ValueError(f"{type(section).__name__} params vs FitConfig + {model_cls.__name__}: "
                         f"missing {missing}, not used {unknown}")  # fmt: skip
    fit = FitConfig(seed=section.seeds[0], **{k: given[k] for k in fit_names})
    return fit, model_cls(**{k: given[k] for k in model_names})


CELL_INPUTS = ("raw", "live", "canonical")


@dataclass
class CellData:
    ops: torch.Tensor  # (n, 8)
    adj: torch.Tensor  # (n, 8, 8)

    @classmethod
    def from_archs(cls, archs: list[str], cell_input: str = "raw") -> CellData:
        """`cell_input` "live": ops off every input-to-output path become `none`
        (tart.spaces.nb201.cell_paths.live_ops); "canonical": the live ops of the cell's function-class representative
        (tart.spaces.nb201.cell_function), so cells that build the same network read the same."""
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


def fit_cell_model(cfg: FitConfig, make_model: Callable[[], torch.nn.Module], data: CellData,
                   train_rows: np.ndarray, y_train: np.ndarray, val_rows: np.ndarray, y_val: np.ndarray,
                   desc: str = "train", state_file: StateFile | None = None):  # fmt: skip
    """Any model of (ops, adj) -> (0, 1) scores, trained with the NAR-Former recipe (losses, schedule, EMA,
    best EMA checkpoint on the validation nets). `state_file`: saved every epoch, resumed from when present."""
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    model = make_model().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps = cfg.epochs * math.ceil(len(train_rows) / cfg.batch_size)
    warm = max(1, int(cfg.warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    rng = np.random.default_rng(cfg.seed)
    y = torch.tensor(unit_targets(y_train, cfg.target_transform), dtype=torch.float32)

    def batches() -> list[np.ndarray]:
        return np.array_split(rng.permutation(len(train_rows)), math.ceil(len(train_rows) / cfg.batch_size))

    def batch_loss(pick: np.ndarray) -> torch.Tensor:
        rows = train_rows[pick]
        target = y[pick].to(device)
        pred = model(data.ops[rows].to(device), data.adj[rows].to(device))
        ops2, adj2 = data.renumbered(rows, rng)  # the same cells, renumbered: their scores should agree
        pred2 = model(ops2.to(device), adj2.to(device))
        return (F.mse_loss(pred, target) + cfg.rank_weight * pairwise_difference_loss(pred, target)
                + cfg.consistency_weight * (pred - pred2).abs().mean())  # fmt: skip

    def validate(scored: torch.nn.Module) -> float:
        return float(stats.kendalltau(predict_cells(scored, data, val_rows), y_val).statistic)

    start = time.perf_counter()
    schedule = Schedule(epochs=cfg.epochs, eval_every=cfg.eval_every, ema=cfg.ema, desc=desc)
    curves = train_epochs(model, opt, sched, schedule, batches, batch_loss, validate, len(val_rows), state_file, [rng])
    facts = {"device": str(device), "train_seconds": round(time.perf_counter() - start, 1), **best_of(curves),
             "fit": dataclasses.asdict(cfg)}  # fmt: skip
    return model, curves, facts


# What every fit of one stage shares, set once per worker process (`load_fit_context`).
_FIT_CONTEXT: dict = {}


def load_fit_context(make_model: Callable[[], torch.nn.Module], archs: list[str], cell_inputs: tuple[str, ...],
                     y: np.ndarray, val_size: int, state_dir: Path | None = None) -> None:  # fmt: skip
    data = {cell_input: CellData.from_archs(archs, cell_input) for cell_input in cell_inputs}
    _FIT_CONTEXT.update(make_model=make_model, data=data, y=y, val_size=val_size, state_dir=state_dir)


def fit_and_predict(job: tuple[FitConfig, str, int, str]) -> tuple[np.ndarray, dict]:
    """One fit on the first `n_train` nets (validated on the next `val_size`); its predictions for all nets."""
    cfg, cell_input, n_train, desc = job
    context = _FIT_CONTEXT
    data, y = context["data"][cell_input], context["y"]
    train_rows, val_rows = np.arange(n_train), np.arange(n_train, n_train + context["val_size"])

    def fit_and_score(state_file: StateFile | None) -> tuple[np.ndarray, dict]:
        model, _, facts = fit_cell_model(cfg, context["make_model"], data, train_rows, y[train_rows], val_rows,
                                         y[val_rows], desc, state_file)  # fmt: skip
        return predict_cells(model, data, np.arange(len(y))), facts

    key = fit_key({"fit": dataclasses.asdict(cfg), "model": repr(context["make_model"]), "n_train": n_train},
                  data.ops, data.adj, y, np.asarray(context["val_size"]))  # fmt: skip
    name = f"{desc.removeprefix('train ')}_n{n_train}_seed{cfg.seed}"
    return resumable_fit(context["state_dir"], name, key, fit_and_score)


def cell_model_from_files(predictor: str, make_model: Callable[[], torch.nn.Module], model_dict: dict,
                          labels_path: Path, target: str, test_label: str, train_sizes: list[int], seeds: list[int],
                          val_size: int, fit: FitConfig, out_path: Path,
                          progress: Callable[[str], None] | None = None,
                          cell_inputs: tuple[str, ...] = ("raw",), state_dir: Path | None = None) -> dict:  # fmt: skip
    """A cell-DAG model's stage: fit on the first N nets, validate on the next `val_size`, score all nets; one run
    per (cell input, N, seed), `fit.workers` at a time on `fit.threads // fit.workers` threads each, summarized
    like the baselines. The "live" cell input reports as `<predictor>_live`. `make_model` must pickle (a
    `functools.partial`, not a lambda) when fits run in worker processes. `state_dir`: each fit's training state
    and each finished fit's result, so a killed stage resumes (`tart.training.resume`); removed at the end."""
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
    context = (make_model, table["arch"], tuple(cell_inputs), y, val_size, state_dir)
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
    files.write_json(report, out_path)
    clear_stage(state_dir)
    return report
