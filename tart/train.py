"""`train` stage: fit the TART Transformer on the training architectures, keep the epoch best on validation."""

from __future__ import annotations

import copy
import json
import math
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from scipy import stats
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from tart.graph_pe import graph_input
from tart.model import TartConfig, TartModel
from tart.params import Train
from tart.tokenize import CHANNEL_VOCAB, vocab_hash


@dataclass
class TokenSet:
    """All token sequences of a token directory, padded: row k is net `nets[k]`."""

    nets: np.ndarray  # (N,)
    ids: torch.Tensor  # (N, L, C) int64, 0 = padding, one channel per token column
    lengths: torch.Tensor  # (N,)
    channels: tuple[str, ...]
    vocab: dict
    graph: torch.Tensor | None = None  # the model's graph input (tart/graph_pe.py), row-aligned with `ids`
    graph_pe: str = "none"

    def vocab_sizes(self) -> tuple[int, ...]:
        return tuple(len(self.vocab[CHANNEL_VOCAB[c]]) for c in self.channels)


def load_tokens(tokens_dir: Path, channels: tuple[str, ...] = ("tokens",), graph_pe: str = "none",
                pe_dim: int = 8) -> TokenSet:  # fmt: skip
    """Token shards as one padded tensor of the requested channels (`tokens` must come first), plus the graph
    positional encoding `graph_pe` computed from the shards' edges."""
    shards = sorted(tokens_dir.glob("tokens-*.parquet"))
    vocab_path = tokens_dir / "vocab.json"
    if not shards or not vocab_path.exists():
        raise FileNotFoundError(f"{tokens_dir}: no tokens-*.parquet or vocab.json; run the tokenize stage first")
    if channels[0] != "tokens":
        raise ValueError(f"the first channel must be 'tokens' (it marks padding); got {channels}")
    edges = ["edge_src", "edge_dst"] if graph_pe != "none" else []
    table = pa.concat_tables(pq.read_table(s, columns=["net", "length", *channels, *edges]) for s in shards)
    return token_set(table, channels, json.loads(vocab_path.read_text()), graph_pe, pe_dim)


def token_set(table: pa.Table, channels: tuple[str, ...], vocab: dict, graph_pe: str = "none",
              pe_dim: int = 8) -> TokenSet:  # fmt: skip
    """A token table (`schemas.TOKENS` columns) as one padded tensor of `channels`, plus the graph encoding."""
    lengths = np.asarray(table["length"].to_pylist())
    ids = np.zeros((len(lengths), int(lengths.max()), len(channels)), np.int64)
    for c, channel in enumerate(channels):
        for k, seq in enumerate(table[channel].to_pylist()):
            ids[k, : len(seq), c] = seq
    graph = None if graph_pe == "none" else graph_input(
        graph_pe, pe_dim, lengths.tolist(), table["edge_src"].to_pylist(), table["edge_dst"].to_pylist(), progress=True
    )  # fmt: skip
    return TokenSet(np.asarray(table["net"].to_pylist()), torch.from_numpy(ids), torch.from_numpy(lengths),
                    tuple(channels), vocab, graph, graph_pe)  # fmt: skip


def rows_of(tokens: TokenSet, nets: np.ndarray) -> np.ndarray:
    """Row positions of `nets` in `tokens`; KeyError naming the first net without tokens."""
    position = {int(n): k for k, n in enumerate(tokens.nets)}
    missing = [int(n) for n in nets if int(n) not in position]
    if missing:
        raise KeyError(f"nets {missing[:5]} have no tokens")
    return np.array([position[int(n)] for n in nets])


def seed_everything(seed: int) -> None:
    """Seed every generator and ask for deterministic kernels (cuBLAS needs its workspace setting for that)."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def pick_device(choice: str) -> torch.device:
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise RuntimeError("train.device is 'cuda' but torch sees no CUDA device")
        return torch.device("cuda")
    return torch.device("cpu")


QUANTILES = np.linspace(0.0, 1.0, 101)


def fit_target_scale(y: np.ndarray, transform: str) -> dict:
    """How training labels map to model outputs: z-scores, or normal scores of their ranks ("rank").

    Ranks make the loss indifferent to the long tail of NB201 (nets at chance accuracy), which is what Kendall tau
    measures too; the stored quantiles map predictions back to label units.
    """
    return {"transform": transform, "mean": float(y.mean()), "std": float(y.std() or 1.0),
            "quantiles": np.quantile(y, QUANTILES).tolist()}  # fmt: skip


def to_model_scale(y: np.ndarray, scale: dict) -> np.ndarray:
    if scale["transform"] == "rank":
        return stats.norm.ppf((stats.rankdata(y) - 0.5) / len(y))
    return (y - scale["mean"]) / scale["std"]


def to_label_scale(pred: np.ndarray, scale: dict) -> np.ndarray:
    """Model outputs back in label units (monotone, so rankings are unchanged)."""
    if scale["transform"] == "rank":
        return np.interp(stats.norm.cdf(pred), QUANTILES, scale["quantiles"])
    return pred * scale["std"] + scale["mean"]


def pairwise_rank_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Logistic loss on every ordered pair of the batch: penalises predictions ranked against the targets."""
    dp = pred[:, None] - pred[None, :]  # (B, B)
    sign = torch.sign(target[:, None] - target[None, :])  # (B, B)
    mask = sign != 0
    if not mask.any():
        return pred.new_zeros(())
    return torch.nn.functional.softplus(-sign[mask] * dp[mask]).mean()


def batch_inputs(ts: TokenSet, rows: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(ids (B, width, C), graph input or None), cut to the batch's longest net."""
    idx = torch.from_numpy(rows)
    width = int(ts.lengths[idx].max())
    graph = None if ts.graph is None else ts.graph[idx, :width].to(device)
    return ts.ids[idx, :width].to(device), graph


def autocast(device: torch.device, precision: str):
    """bf16 autocast for `precision == "bf16"` (matmuls and attention in bf16, reductions in fp32)."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


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
def predict_heads(model: TartModel, ts: TokenSet, rows: np.ndarray, batch_size: int = 256,
                  precision: str = "fp32") -> np.ndarray:  # fmt: skip
    """Model outputs (N, heads) for `rows`, batched in length order to keep padding small."""
    model.eval()
    device = next(model.parameters()).device
    order = rows[np.argsort(ts.lengths[rows].numpy(), kind="stable")]
    out = {}
    for i in range(0, len(order), batch_size):
        chunk = order[i : i + batch_size]
        with autocast(device, precision):
            out.update(zip(chunk.tolist(), model(*batch_inputs(ts, chunk, device)).float().cpu().numpy()))
    return np.stack([out[int(r)] for r in rows])


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


def kept_state(best_state: dict | None, n_val: int) -> dict:
    """The best validation checkpoint. None means Kendall tau was NaN at every evaluation (all validation nets
    scored alike, or all their labels equal): no epoch can be picked, so stop with that said."""
    if best_state is None:
        raise ValueError(f"validation Kendall tau was NaN at every evaluation: the model gave all {n_val} validation "
                         "nets the same score, or their labels are all equal; no checkpoint to keep")  # fmt: skip
    return best_state


def fit(cfg: Train, ts: TokenSet, train_rows: np.ndarray, y_train: np.ndarray, val_rows: np.ndarray,
        y_val: np.ndarray, init: dict | None = None) -> tuple[TartModel, list[dict], dict]:  # fmt: skip
    """Train; returns the best-on-validation model (the EMA weights when `cfg.ema`), per-epoch curves and run facts.

    `y_train` is (N,) or (N, heads): column 0 is the target, the others the extra heads' labels. Early stopping
    looks at head 0 only (`y_val` is its label). `init`: encoder weights to start from (`load_encoder`).
    """
    seed_everything(cfg.seed)
    torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    y_train = y_train.reshape(len(y_train), -1)
    n_heads = y_train.shape[1]
    mcfg = model_config(cfg, ts, n_heads)
    model = TartModel(mcfg)
    if init is not None:  # fine-tuning: a pretrained encoder (tart/pretrain.py), a fresh regression head
        load_encoder(model, init)
    model = model.to(device)
    scales = [fit_target_scale(y_train[:, h], cfg.target_transform) for h in range(n_heads)]
    y = torch.tensor(np.stack([to_model_scale(y_train[:, h], scales[h]) for h in range(n_heads)], 1),
                     dtype=torch.float32)  # fmt: skip
    head_weights = [1.0] + [cfg.aux_weight] * (n_heads - 1)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train_rows) / cfg.batch_size)
    total, warmup = cfg.epochs * steps_per_epoch, steps_per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total))
    )
    ema = None if cfg.ema is None else AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema))
    scored = model if ema is None else ema.module  # the weights validated and kept
    gen = torch.Generator().manual_seed(cfg.seed)
    curves, best, best_state = [], -2.0, None
    start = time.perf_counter()
    for epoch in tqdm(range(1, cfg.epochs + 1), desc="train", unit="epoch"):
        model.train()
        losses = []
        for pick in length_bucketed_batches(ts.lengths[train_rows].numpy(), cfg.batch_size, gen):
            with autocast(device, cfg.precision):
                pred = model(*batch_inputs(ts, train_rows[pick], device)).float()
            target = y[pick].to(device)
            loss = sum(w * (torch.nn.functional.mse_loss(pred[:, h], target[:, h])
                            + cfg.rank_weight * pairwise_rank_loss(pred[:, h], target[:, h]))
                       for h, w in enumerate(head_weights))  # fmt: skip
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update_parameters(model)
            losses.append(loss.item())
        tau = float(stats.kendalltau(predict(scored, ts, val_rows, precision=cfg.precision), y_val).statistic)
        curves.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "val_kendall_tau_b": tau})
        if tau > best:
            best, best_state = tau, copy.deepcopy(scored.state_dict())
    model.load_state_dict(kept_state(best_state, len(val_rows)))
    facts = {
        "device": str(device), "train_seconds": round(time.perf_counter() - start, 1),
        "best_epoch": max(curves, key=lambda c: c["val_kendall_tau_b"])["epoch"], "best_val_kendall_tau_b": best,
        "target_scale": scales[0], "aux_target_scales": scales[1:], "model": mcfg.to_dict(),
        "vocab_hash": vocab_hash(ts.vocab), "channels": list(ts.channels),
    }  # fmt: skip
    return model, curves, facts


def save_checkpoint(model: TartModel, facts: dict, params: dict, path: Path) -> None:
    """`path` (state dict) and `path.json` (config, vocabulary hash, params, run facts), each written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({k: v.cpu() for k, v in model.state_dict().items()}, tmp)
    os.replace(tmp, path)
    meta = {**facts, "params": params}
    meta.pop("train_seconds", None)  # timings vary run to run; they go to the provenance file
    meta_path = path.with_suffix(path.suffix + ".json")
    meta_path.with_name(meta_path.name + ".tmp").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.replace(meta_path.with_name(meta_path.name + ".tmp"), meta_path)


def load_checkpoint(path: Path, device: str = "cpu") -> tuple[TartModel, dict]:
    meta_path = path.with_suffix(path.suffix + ".json")
    if not path.exists() or not meta_path.exists():
        raise FileNotFoundError(f"{path} or {meta_path} is missing; run the train stage first")
    meta = json.loads(meta_path.read_text())
    model = TartModel(TartConfig(**{**meta["model"], "vocab_sizes": tuple(meta["model"]["vocab_sizes"])}))
    model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    return model.to(device), meta


def train_from_files(cfg: Train, tokens_dir: Path, labels: Path, split: Path) -> tuple[TartModel, list[dict], dict]:
    """Train on the 'train' nets of `split` with label `cfg.target`, early-stopping on the 'val' nets."""
    ts = load_tokens(tokens_dir, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)
    roles = pq.read_table(split).to_pydict()
    label_table = pq.read_table(labels)
    targets = [cfg.target, *cfg.aux_targets]
    for name in targets:
        if name not in label_table.column_names:
            raise KeyError(f"{labels}: no label column {name!r} (train.target / train.aux_targets); "
                           f"columns are {label_table.column_names}")  # fmt: skip
    position = {int(n): k for k, n in enumerate(label_table["net"].to_pylist())}
    values = np.stack([np.asarray(label_table[name].to_pylist(), dtype=float) for name in targets], 1)
    nets = {role: np.array([n for n, r in zip(roles["net"], roles["role"]) if r == role]) for role in ("train", "val")}
    y = {role: values[[position[int(n)] for n in nets[role]]] for role in nets}
    return fit(cfg, ts, rows_of(ts, nets["train"]), y["train"], rows_of(ts, nets["val"]), y["val"][:, 0])


def write_curves(curves: list[dict], path: Path) -> None:
    """Per-epoch curves as CSV for `dvc plots`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["epoch,train_loss,val_kendall_tau_b"]
    lines += [f"{c['epoch']},{c['train_loss']:.6f},{c['val_kendall_tau_b']:.6f}" for c in curves]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
