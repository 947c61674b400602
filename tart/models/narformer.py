"""A NAR-Former-style predictor: sinusoidal topology tokens of the cell DAG -> pre-norm Transformer encoder ->
multi-stage fusion (4, 2, 1 learned queries, each stage cross-attending to the previous one) -> sigmoid head.

Tokens stay integers (op id, own index, predecessor set); the sinusoidal encodings are computed in the model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tart.models.transformer import Block


@dataclass(frozen=True)
class NarFormerConfig:
    n_freq: int  # sin and cos of each: 4 * n_freq dims per encoded integer, 6 * n_freq per token
    n_layers: int
    n_heads: int
    d_ff: int
    dropout: float
    fusion_queries: tuple[int, ...] = (4, 2, 1)

    @property
    def d_model(self) -> int:
        return 3 * 2 * self.n_freq

    def to_dict(self) -> dict:
        return asdict(self)


def sinusoid(x: torch.Tensor, n_freq: int) -> torch.Tensor:
    """(...,) float -> (..., 2 * n_freq): sin and cos at geometrically spaced frequencies."""
    freqs = torch.exp(-math.log(10000.0) * torch.arange(n_freq, device=x.device) / n_freq)  # (F,)
    angles = x[..., None] * freqs  # (..., F)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def topology_tokens(ops: torch.Tensor, adj: torch.Tensor, n_freq: int) -> torch.Tensor:
    """ops (B, L) op ids, adj (B, L, L) with [i, j] = j precedes i -> (B, 1 + L, 6 * n_freq): a depth token, then
    per node [enc(op), enc(own index), sum of enc(predecessor index)]."""
    b, length = ops.shape
    index = sinusoid(torch.arange(length, device=ops.device, dtype=torch.float32), n_freq)  # (L, 2F)
    own = index.expand(b, length, -1)
    preds = adj.float() @ index  # (B, L, 2F)
    nodes = torch.cat([sinusoid(ops.float(), n_freq), own, preds], dim=-1)  # (B, L, 6F)
    depth = sinusoid(torch.full((b, 1), float(length), device=ops.device), n_freq)  # (B, 1, 2F)
    depth = torch.cat([depth, torch.zeros(b, 1, 4 * n_freq, device=ops.device)], dim=-1)
    return torch.cat([depth, nodes], dim=1)


class CrossBlock(nn.Module):
    """Pre-norm block whose queries attend to a memory sequence."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.ln_q, self.ln_m, self.ln_ff = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.q, self.kv, self.proj = (
            nn.Linear(d_model, d_model),
            nn.Linear(d_model, 2 * d_model),
            nn.Linear(d_model, d_model),
        )
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """queries (B, Q, D), memory (B, L, D) -> (B, Q, D)."""
        b, nq, d = queries.shape
        h = self.n_heads
        q = self.q(self.ln_q(queries)).view(b, nq, h, d // h).transpose(1, 2)  # (B, H, Q, Dh)
        k, v = self.kv(self.ln_m(memory)).view(b, -1, 2, h, d // h).unbind(2)  # (B, L, H, Dh) each
        att = F.scaled_dot_product_attention(q, k.transpose(1, 2), v.transpose(1, 2),
                                             dropout_p=self.drop.p if self.training else 0.0)  # fmt: skip
        x = queries + self.drop(self.proj(att.transpose(1, 2).reshape(b, nq, d)))
        return x + self.drop(self.ff(self.ln_ff(x)))


class NarFormerModel(nn.Module):
    def __init__(self, cfg: NarFormerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.blocks = nn.ModuleList(Block(d, cfg.n_heads, cfg.d_ff, cfg.dropout) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(d)
        self.queries = nn.ParameterList(nn.Parameter(torch.randn(q, d) * 0.02) for q in cfg.fusion_queries)
        self.fusion = nn.ModuleList(CrossBlock(d, cfg.n_heads, cfg.d_ff, cfg.dropout) for _ in cfg.fusion_queries)
        self.head = nn.Linear(d, 1)

    def forward(self, ops: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """ops (B, 8), adj (B, 8, 8) -> (B,) predictions in (0, 1)."""
        x = topology_tokens(ops, adj, self.cfg.n_freq)  # (B, 1 + L, D)
        no_mask = x.new_zeros(1, 1, 1, x.shape[1])
        for block in self.blocks:
            x = block(x, no_mask)
        memory = self.norm(x)
        for queries, fusion in zip(self.queries, self.fusion):
            memory = fusion(queries.expand(len(x), -1, -1), memory)  # (B, Q, D)
        return torch.sigmoid(self.head(memory[:, -1])).squeeze(-1)
