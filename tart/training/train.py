"""`train` stage: fit the TART Transformer on the training architectures, keep the epoch best on validation."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from scipy import stats

from tart.core.files import write_text
from tart.core.params import Train
from tart.models.transformer import TartConfig, TartModel
from tart.tokens.token_set import TokenSet, batch_inputs, load_tokens, rows_of
from tart.tokens.tokenize import vocab_hash
from tart.training import resume
from tart.training.distill import require_target_only, taught_nets, teacher_inputs, teacher_scores
from tart.training.loop import Schedule, autocast, best_of, pick_device, seed_everything, train_epochs
from tart.training.losses import pairwise_rank_loss
from tart.training.ranks import Ranks, process_group, ranks_from_env, wrap
from tart.training.targets import fit_target_scale, to_model_scale


def length_bucketed_batches(lengths: np.ndarray, batch_size: int, gen: torch.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length (less padding): sort within windows of 8 batches, shuffle batch order."""
    perm = torch.randperm(len(lengths), generator=gen).numpy()
    window = batch_size * 8
    batches = []
    for i in range(0, len(perm), window):
        chunk = perm[i : i + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    order = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[k] for k in order]


@torch.no_grad()
def _in_length_order(model: TartModel, ts: TokenSet, rows: np.ndarray, batch_size: int, precision: str,
                     run: Callable[[tuple], torch.Tensor]) -> np.ndarray:  # fmt: skip
    """`run(batch inputs)` -> (B, K) for `rows`, batched in length order to keep padding small; (N, K) in `rows`
    order."""
    model.eval()
    device = next(model.parameters()).device
    rows = np.ascontiguousarray(rows)  # torch indexes only with non-negative strides
    order = rows[np.argsort(ts.lengths[rows].numpy(), kind="stable")]
    out = {}
    for i in range(0, len(order), batch_size):
        chunk = order[i : i + batch_size]
        with autocast(device, precision):
            out.update(zip(chunk.tolist(), run(batch_inputs(ts, chunk, device)).float().cpu().numpy()))
    return np.stack([out[int(r)] for r in rows])


def predict_heads(model: TartModel, ts: TokenSet, rows: np.ndarray, batch_size: int = 256,
                  precision: str = "fp32") -> np.ndarray:  # fmt: skip
    """Model outputs (N, heads) for `rows`."""
    return _in_length_order(model, ts, rows, batch_size, precision, lambda inputs: model(*inputs))


def predict_with_pooled(model: TartModel, ts: TokenSet, rows: np.ndarray, batch_size: int = 256,
                        precision: str = "fp32") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Model outputs (N, heads) and the pooled vectors the head reads (N, d_model), from one pass."""

    def both(inputs: tuple) -> torch.Tensor:
        # the head's input, caught on its way in: the model's pooling stays in one place (TartModel.forward)
        caught: list[torch.Tensor] = []
        hook = model.head.register_forward_pre_hook(lambda _, args: caught.append(args[0]))
        try:
            outputs = model(*inputs)
        finally:
            hook.remove()
        return torch.cat([outputs, caught[0]], 1)

    out = _in_length_order(model, ts, rows, batch_size, precision, both)
    heads = model.cfg.n_outputs
    return out[:, :heads], out[:, heads:]


def predict(model: TartModel, ts: TokenSet, rows: np.ndarray, batch_size: int = 256,
            precision: str = "fp32") -> np.ndarray:  # fmt: skip
    """Outputs of the first head (the training target) for `rows`."""
    return predict_heads(model, ts, rows, batch_size, precision)[:, 0]


def _channel(ts: TokenSet, name: str, attention_bias: str) -> int:
    if attention_bias == "none":
        return -1
    if name not in ts.channels:
        raise ValueError(f"train.attention_bias={attention_bias!r} needs the {name!r} channel in train.channels")
    return ts.channels.index(name)


def load_encoder(model: TartModel, state: dict[str, torch.Tensor]) -> None:
    """Copy pretrained encoder weights into `model`, all but the regression head. Embedding tables may be longer
    than the model's (pretraining adds mask ids; its nets may be longer): their leading rows are copied."""
    own = model.state_dict()
    for name, value in state.items():
        if name.startswith("head.") or name not in own:
            continue
        target = own[name]
        if value.shape[1:] != target.shape[1:]:
            raise ValueError(f"pretrained {name} has shape {tuple(value.shape)}, the model {tuple(target.shape)}")
        rows = min(len(value), len(target))
        target[:rows] = value[:rows]
    model.load_state_dict(own)


def model_config(cfg: Train, ts: TokenSet, n_outputs: int = 1) -> TartConfig:
    """The model the `train` settings describe, sized for the token set `ts`."""
    if cfg.graph_pe != ts.graph_pe:
        raise ValueError(f"train.graph_pe is {cfg.graph_pe!r} but the tokens were loaded with {ts.graph_pe!r}")
    return TartConfig(
        vocab_sizes=ts.vocab_sizes(), max_len=int(ts.lengths.max()), d_model=cfg.d_model, n_layers=cfg.n_layers,
        n_heads=cfg.n_heads, d_ff=cfg.d_ff, dropout=cfg.dropout, attention_dropout=cfg.attention_dropout,
        positions=cfg.positions, graph_pe=cfg.graph_pe, pe_dim=cfg.pe_dim,
        attention_bias=cfg.attention_bias, near_channel=_channel(ts, "near_tokens", cfg.attention_bias),
        far_channel=_channel(ts, "far_tokens", cfg.attention_bias), n_outputs=n_outputs,
    )  # fmt: skip


def fit_key(cfg: Train, ts: TokenSet, train_rows: np.ndarray, y_train: np.ndarray, val_rows: np.ndarray,
            y_val: np.ndarray, init: dict | None = None) -> str:  # fmt: skip
    """The key a TART fit's state file carries (`tart.training.resume`): settings, tokens, rows, labels, init."""
    init_arrays = [] if init is None else [init[name] for name in sorted(init)]
    return resume.fit_key({"train": cfg.model_dump(), "channels": ts.channels, "init": init is not None},
                          ts.ids, ts.graph, train_rows, y_train, val_rows, y_val, *init_arrays)  # fmt: skip


def fit(cfg: Train, ts: TokenSet, train_rows: np.ndarray, y_train: np.ndarray, val_rows: np.ndarray,
        y_val: np.ndarray, init: dict | None = None, state_file: resume.StateFile | None = None,
        labels: np.ndarray | None = None) -> tuple[TartModel, list[dict], dict]:  # fmt: skip
    """Train; returns the best-on-validation model (the EMA weights when `cfg.ema`), per-epoch curves and run facts.

    `y_train` is (N,) or (N, heads): column 0 is the target, the others the extra heads' labels. Early stopping
    looks at head 0 only (`y_val` is its label). `init`: encoder weights to start from (`load_encoder`).
    `state_file`: where the training state goes every epoch and a killed fit resumes from (key: `fit_key`).
    `labels`: when column 0 of `y_train` is not in label units (a teacher's normal scores), the true training labels
    whose distribution maps the model's outputs back to label units (`target_scale` in the facts).

    Under `torchrun` every rank trains its share of each epoch's batches with DDP (tart/training/ranks.py) and
    returns the same model; the state file is then not used (resuming covers one-process runs).
    """
    ranks = ranks_from_env()
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = ranks.local_device(pick_device(cfg.device))
    with process_group(ranks, device):
        facts_scale = None if labels is None else fit_target_scale(np.asarray(labels, dtype=float), "rank")
        return _fit(cfg, ts, train_rows, y_train, val_rows, y_val, init, state_file if ranks.world == 1 else None,
                    ranks, device, facts_scale)  # fmt: skip


def _fit(cfg: Train, ts: TokenSet, train_rows: np.ndarray, y_train: np.ndarray, val_rows: np.ndarray,
         y_val: np.ndarray, init: dict | None, state_file: resume.StateFile | None, ranks: Ranks,
         device: torch.device, label_scale: dict | None) -> tuple[TartModel, list[dict], dict]:  # fmt: skip
    y_train = y_train.reshape(len(y_train), -1)
    n_heads = y_train.shape[1]
    mcfg = model_config(cfg, ts, n_heads)
    model = TartModel(mcfg)
    if init is not None:  # fine-tuning: a pretrained encoder (tart/training/pretrain.py), a fresh regression head
        load_encoder(model, init)
    model = model.to(device)
    trained = wrap(model, ranks, device)  # what the steps call: DDP across torchrun ranks, else the model
    scales = [fit_target_scale(y_train[:, h], cfg.target_transform) for h in range(n_heads)]
    y = torch.tensor(np.stack([to_model_scale(y_train[:, h], scales[h]) for h in range(n_heads)], 1),
                     dtype=torch.float32)  # fmt: skip
    head_weights = [1.0] + [cfg.aux_weight] * (n_heads - 1)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = ranks.steps_per_epoch(math.ceil(len(train_rows) / cfg.batch_size))
    total, warmup = cfg.epochs * steps_per_epoch, steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    gen = torch.Generator().manual_seed(cfg.seed)

    def batch_loss(pick: np.ndarray) -> torch.Tensor:
        with autocast(device, cfg.precision):
            pred = trained(*batch_inputs(ts, train_rows[pick], device)).float()
        target = y[pick].to(device)
        return sum(w * (torch.nn.functional.mse_loss(pred[:, h], target[:, h])
                        + cfg.rank_weight * pairwise_rank_loss(pred[:, h], target[:, h]))
                   for h, w in enumerate(head_weights))  # fmt: skip

    def validate(scored: torch.nn.Module) -> float:
        return float(stats.kendalltau(predict(scored, ts, val_rows, precision=cfg.precision), y_val).statistic)

    start = time.perf_counter()
    curves = train_epochs(
        model, opt, sched, Schedule(epochs=cfg.epochs, ema=cfg.ema, show=ranks.writes),
        lambda: ranks.shard(length_bucketed_batches(ts.lengths[train_rows].numpy(), cfg.batch_size, gen)),
        batch_loss, validate, len(val_rows), state_file, [gen],
    )  # fmt: skip
    facts = {
        "device": str(device), "train_seconds": round(time.perf_counter() - start, 1), **best_of(curves),
        "target_scale": label_scale or scales[0], "aux_target_scales": scales[1:], "model": mcfg.to_dict(),
        "vocab_hash": vocab_hash(ts.vocab), "channels": list(ts.channels),
    }  # fmt: skip
    if ranks.world > 1:
        facts["world_size"] = ranks.world
    return model, curves, facts


def train_from_files(cfg: Train, tokens_dir: Path, labels: Path, split: Path,
                     state_dir: Path | None = None) -> tuple[TartModel, list[dict], dict]:  # fmt: skip
    """Train on the 'train' nets of `split` with label `cfg.target`, early-stopping on the 'val' nets; with
    `cfg.teacher`, also on the teacher's scores of the 'rest' nets (tart/training/distill.py). With `state_dir`, the
    training state is saved there every epoch and a killed run resumes from it; the caller removes it
    (`resume.clear_stage`) once the outputs are written."""
    ts = load_tokens(tokens_dir, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)
    roles = pq.read_table(split).to_pydict()
    label_table = pq.read_table(labels)
    targets = [cfg.target, *cfg.aux_targets]
    for name in targets:
        if name not in label_table.column_names:
            raise KeyError(f"{labels}: no label column {name!r} (train.target / train.aux_targets); "
                           f"columns are {label_table.column_names}")  # fmt: skip
    table_nets = np.asarray(label_table["net"].to_pylist())
    position = {int(n): k for k, n in enumerate(table_nets)}
    values = np.stack([np.asarray(label_table[name].to_pylist(), dtype=float) for name in targets], 1)
    nets = {role: np.array([n for n, r in zip(roles["net"], roles["role"]) if r == role], dtype=np.int64)
            for role in ("train", "val", "rest")}  # fmt: skip
    at = {role: np.array([position[int(n)] for n in nets[role]], dtype=np.int64) for role in nets}
    fitted, y_fitted = nets["train"], values[at["train"]]
    if cfg.teacher != "none":
        fitted, y_fitted = _taught(cfg, labels, label_table, values[:, 0], at)
        fitted = table_nets[fitted]
    data = (cfg, ts, rows_of(ts, fitted), y_fitted, rows_of(ts, nets["val"]), values[at["val"], 0])
    state_file = None if state_dir is None else resume.StateFile(state_dir / "train.pt", fit_key(*data))
    # a teacher's targets are normal scores: the training nets' own labels map the outputs back to label units
    labels = values[at["train"], 0] if cfg.teacher != "none" else None
    model, curves, facts = fit(*data, state_file=state_file, labels=labels)
    if cfg.teacher != "none":
        facts["taught_nets"] = len(fitted) - len(nets["train"])
    return model, curves, facts


def _taught(cfg: Train, labels: Path, label_table: pa.Table, label: np.ndarray,
            at: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Positions in `label_table` of the nets to fit and their targets, with `cfg.teacher` scoring the split's
    'rest' nets (tart/training/distill.py)."""
    require_target_only(cfg.teacher, cfg.aux_targets)
    if "arch" not in label_table.column_names:
        raise KeyError(f"{labels}: no 'arch' column; train.teacher={cfg.teacher!r} reads NB201 cells (other nets: "
                       "teacher none)")
    archs = label_table["arch"].to_pylist()
    scores = teacher_scores(cfg.teacher, teacher_inputs(cfg.teacher, archs), label, at["train"], cfg.seed,
                            cfg.threads, val=at["val"])  # fmt: skip
    fitted, target = taught_nets(label, scores, at["train"], at["rest"], cfg.unlabelled, cfg.seed)
    return fitted, target[:, None]


def write_curves(curves: list[dict], path: Path) -> None:
    """Per-epoch curves as CSV for `dvc plots`."""
    lines = ["epoch,train_loss,val_kendall_tau_b"]
    lines += [f"{c['epoch']},{c['train_loss']:.6f},{c['val_kendall_tau_b']:.6f}" for c in curves]
    write_text(path, "\n".join(lines) + "\n")
