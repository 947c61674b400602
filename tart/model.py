"""The TART Transformer: node tokens -> pre-norm Transformer encoder -> mean pooling -> regression head."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tart.tokenize import MAX_OFFSET


@dataclass(frozen=True)
class TartConfig:
    vocab_sizes: tuple[int, ...]  # one per token channel (the first is the primitive), padding id 0 in each
    max_len: int
    d_model: int = 64
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 128
    dropout: float = 0.0
    positions: str = "learned"  # "learned" or "none" (the latter makes the model order-blind)
    # "edges": each head learns a bias for attending along an edge (to a predecessor or successor), read from the
    # offset channels `near_channel`/`far_channel`; "none": plain attention
    attention_bias: str = "none"
    near_channel: int = -1
    far_channel: int = -1
    n_outputs: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


class TartModel(nn.Module):
    def __init__(self, cfg: TartConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.ModuleList(nn.Embedding(v, cfg.d_model, padding_idx=0) for v in cfg.vocab_sizes)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model) if cfg.positions == "learned" else None
        # relation of key j to query i: 0 none, 1 j is a predecessor of i, 2 j is a successor of i, 3 j == i
        self.relation_bias = nn.Embedding(4, cfg.n_heads) if cfg.attention_bias == "edges" else None
        if self.relation_bias is not None:
            nn.init.zeros_(self.relation_bias.weight)
        self.blocks = nn.ModuleList(Block(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.n_outputs)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids: (B, L, C) int64, one channel per embedding, 0 = padding -> (B, n_outputs)."""
        pad = ids[..., 0] == 0  # (B, L)
        x = sum(embed(ids[..., c]) for c, embed in enumerate(self.embed))  # (B, L, D)
        if self.pos is not None:
            x = x + self.pos(torch.arange(ids.shape[1], device=ids.device))[None]  # (1, L, D)
        if self.relation_bias is None:
            bias = torch.zeros(pad.shape, dtype=x.dtype, device=x.device).masked_fill(pad, float("-inf"))
            bias = bias[:, None, None, :]  # (B, 1, 1, L): padded keys get no attention
        else:
            bias = self._attention_bias(ids, pad)  # (B, H, L, L)
        for block in self.blocks:
            x = block(x, bias)
        x = self.norm(x)
        # masked_fill, not a product: padded rows may hold NaN when the fused inference path skips them
        pooled = x.masked_fill(pad.unsqueeze(-1), 0.0).sum(1) / (~pad).sum(1, keepdim=True).clamp(min=1)  # (B, D)
        return self.head(pooled)

    def _attention_bias(self, ids: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """Additive attention mask (B, heads, L, L): learned per-head edge biases, -inf on padded keys."""
        b, length, _ = ids.shape
        rel = torch.zeros(b, length, length, dtype=torch.long, device=ids.device)  # (B, Lq, Lk)
        pos = torch.arange(length, device=ids.device)
        rel[:, pos, pos] = 3
        for channel in (self.cfg.near_channel, self.cfg.far_channel):
            offset = ids[..., channel] - 1  # token 1 + d for distance d; 0 pad, 1 no input
            valid = (offset >= 1) & (offset < MAX_OFFSET)  # the clipped top token has no exact position
            bi, qi = valid.nonzero(as_tuple=True)
            ki = qi - offset[bi, qi]
            rel[bi, qi, ki] = 1
            rel[bi, ki, qi] = 2
        bias = self.relation_bias(rel).permute(0, 3, 1, 2)  # (B, H, Lq, Lk)
        return bias.masked_fill(pad[:, None, None, :], float("-inf"))


class Block(nn.Module):
    """Pre-norm Transformer block on PyTorch's scaled-dot-product attention."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """x: (B, L, D); bias: additive attention mask broadcastable to (B, H, L, L)."""
        b, length, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, length, 3, self.n_heads, d // self.n_heads).unbind(2)  # (B, L, H, Dh)
        att = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), attn_mask=bias.to(q.dtype),
            dropout_p=self.drop.p if self.training else 0.0,
        )  # (B, H, L, Dh)  # fmt: skip
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(b, length, d)))
        return x + self.drop(self.ff(self.ln2(x)))
