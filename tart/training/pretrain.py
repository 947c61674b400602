"""Self-supervised pretraining of the TART encoder on unlabeled DeepNets-1M-style nets: masked-node prediction.

The corpus comes from our generator (tart/spaces/darts/generate.py), tokenized like NB201 (one shared vocabulary). A
share of the nodes of each net has its primitive and parameter-shape tokens replaced by a mask id (one extra id per
masked channel); the encoder, seeing the rest of the net and its wiring, predicts the masked primitives (cross-entropy).
Fine-tuning starts the regression model from these encoder weights (`tart.training.train.load_encoder`).

The corpus is built in memory from the generator (`corpus_tokens`), or read from token shards already written for
generated nets (`corpus_from_tokens`: e.g. `tart generate --graphs --tokens` of a million nets on a Dask cluster).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from tart.core import schemas
from tart.core.parallel import parallel_map
from tart.core.params import Train
from tart.graphs.graph import graph_row
from tart.models.transformer import TartModel
from tart.spaces.darts.generate import VARIANTS, generate_net
from tart.tokens.token_set import TokenSet, batch_inputs, load_tokens, token_set
from tart.tokens.tokenize import tokenize_row, vocabulary
from tart.training.loop import autocast, pick_device, seed_everything
from tart.training.train import length_bucketed_batches, model_config

MASKED_CHANNELS = ("tokens", "shape_tokens")  # a node's primitive, and the shape that would give it away


@dataclass(frozen=True)
class PretrainConfig:
    nets: int = 10_000  # generated nets in the corpus
    corpus_seed: int = 1  # generator stream (not the one `tart generate` uses by default)
    variant: str = "default"
    mask_rate: float = 0.15
    epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-3
    holdout: int = 500  # corpus nets kept out of training to report masked-node accuracy


def _corpus_rows(job: tuple[int, int, int, str]) -> list[dict]:
    seed, start, stop, variant = job
    vocab = vocabulary()
    rows = []
    for index in range(start, stop):
        net = generate_net(seed, index, VARIANTS[variant])
        rows.append({**tokenize_row(graph_row(net.graph, index, "pretrain"), vocab), "params": net.params["cifar10"]})
    return rows


def corpus_tokens(cfg: PretrainConfig, train: Train, workers: int | None = None) -> tuple[TokenSet, np.ndarray]:
    """`cfg.nets` generated nets as a token set with the channels and graph encoding of `train`, and each net's
    CIFAR-10 parameter count as the generator measures it (a self-measured label, for zero-shot transfer)."""
    chunk = 250
    jobs = [(cfg.corpus_seed, s, min(s + chunk, cfg.nets), cfg.variant) for s in range(0, cfg.nets, chunk)]
    rows = []
    for part in tqdm(parallel_map(_corpus_rows, jobs, workers), total=len(jobs), desc="corpus", unit="chunk"):
        rows += part
    table = pa.Table.from_pylist(rows, schemas.TOKENS)
    corpus = token_set(table, tuple(train.channels), vocabulary(), train.graph_pe, train.pe_dim)
    return corpus, np.array([r["params"] for r in rows], dtype=float)


def corpus_from_tokens(tokens_dir: Path, nets: int, train: Train) -> TokenSet:
    """The first `nets` nets of a directory of token shards as a corpus with the channels and graph encoding of
    `train`. Nets read from DeepNets-1M-layout files carry no parameter shapes (the layout stores none), so a
    `shape_tokens` channel that holds nothing but `none` is refused rather than learned as noise."""
    corpus = load_tokens(Path(tokens_dir), tuple(train.channels), train.graph_pe, train.pe_dim, limit=nets)
    if "shape_tokens" in corpus.channels:
        real = torch.arange(corpus.ids.shape[1]) < corpus.lengths[:, None]  # nodes, not padding
        shapes = corpus.ids[..., corpus.channels.index("shape_tokens")][real]
        if bool((shapes == corpus.vocab["shape_tokens"]["none"]).all()):
            raise ValueError(f"{tokens_dir}: every node's shape token is 'none' (tokens of DeepNets-1M-layout files "
                             "carry no parameter shapes); pretrain with channels without shape_tokens")  # fmt: skip
    return corpus


def mask_nodes(ids: torch.Tensor, rate: float, mask_ids: dict[int, int], gen: torch.Generator):
    """(masked copy of ids, boolean mask (B, L)): each real node is masked with probability `rate` (at least one
    per net); channel c of a masked node becomes `mask_ids[c]`."""
    real = ids[..., 0] != 0
    mask = (torch.rand(real.shape, generator=gen) < rate).to(ids.device) & real
    first = real.float().argmax(1)  # nets where nothing was drawn get their first node masked
    none = ~mask.any(1)
    mask[none.nonzero(as_tuple=True)[0], first[none]] = True
    masked = ids.clone()
    for channel, mask_id in mask_ids.items():
        masked[..., channel] = masked[..., channel].masked_fill(mask, mask_id)
    return masked, mask


def pretrain(cfg: PretrainConfig, train: Train, corpus: TokenSet) -> tuple[dict, list[dict], dict]:
    """Masked-node pretraining; returns the encoder state dict, per-epoch curves and run facts."""
    seed_everything(train.seed)
    torch.set_num_threads(train.threads)
    device = pick_device(train.device)
    base = model_config(train, corpus)
    masked = [c for c, name in enumerate(corpus.channels) if name in MASKED_CHANNELS]
    sizes = tuple(v + 1 if c in masked else v for c, v in enumerate(base.vocab_sizes))  # + the mask id
    mask_ids = {c: base.vocab_sizes[c] for c in masked}
    model = TartModel(type(base)(**{**asdict(base), "vocab_sizes": sizes})).to(device)
    n_primitives = base.vocab_sizes[0]
    decoder = nn.Linear(base.d_model, n_primitives).to(device)
    params = [*model.parameters(), *decoder.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    rows = np.arange(len(corpus.nets))
    held, fit_rows = rows[: cfg.holdout], rows[cfg.holdout :]
    steps = cfg.epochs * math.ceil(len(fit_rows) / cfg.batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100) * 0.5 * (1 + math.cos(
        math.pi * min(s, steps) / steps)))  # fmt: skip
    gen = torch.Generator().manual_seed(train.seed)
    lengths = corpus.lengths.numpy()

    def masked_logits(pick: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        ids, graph = batch_inputs(corpus, pick, device)
        inputs, mask = mask_nodes(ids, cfg.mask_rate, mask_ids, gen)
        with autocast(device, train.precision):
            states, _ = model.encode(inputs, graph)
            return decoder(states[mask]).float(), ids[..., 0][mask]

    curves, start = [], time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        losses = []
        for pick in tqdm(length_bucketed_batches(lengths[fit_rows], cfg.batch_size, gen), desc=f"pretrain {epoch}",
                         unit="batch"):  # fmt: skip
            logits, target = masked_logits(fit_rows[pick])
            loss = F.cross_entropy(logits, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        model.eval()
        correct, counts = 0, torch.zeros(n_primitives, dtype=torch.long)
        with torch.no_grad():
            for i in range(0, len(held), 256):
                logits, target = masked_logits(held[i : i + 256])
                correct += int((logits.argmax(1) == target).sum())
                counts += torch.bincount(target.cpu(), minlength=n_primitives)
        total = int(counts.sum())
        curves.append({"epoch": epoch, "train_loss": float(np.mean(losses)), "holdout_masked_accuracy": correct / total,
                       "holdout_majority_accuracy": int(counts.max()) / total})  # fmt: skip
    facts = {"device": str(device), "seconds": round(time.perf_counter() - start, 1), "corpus_nets": len(rows),
             "corpus_nodes_median": float(np.median(lengths)), "config": asdict(cfg)}  # fmt: skip
    return {k: v.cpu() for k, v in model.state_dict().items()}, curves, facts
