"""The TART Transformer: node tokens (+ an optional graph positional encoding) -> pre-norm Transformer encoder ->
mean pooling -> regression head."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tart.tokens.positional import sinusoid_table
from tart.tokens.tokenize import MAX_OFFSET

MAX_HOPS = 16  # "paths" attention bias: ancestors / descendants farther away count as unrelated


@dataclass(frozen=True)
class TartConfig:
    vocab_sizes: tuple[int, ...]  # one per token channel (the first is the primitive), padding id 0 in each
    max_len: int
    d_model: int
    n_layers: int
    n_heads: int
    d_ff: int
    dropout: float  # on residual branches
    attention_dropout: float  # on attention weights (costly on CPU: a mask per head and token pair)
    positions: str  # "learned" or "none" (the latter makes the model order-blind)
    # "edges": each head learns a bias for attending along an edge (to a predecessor or successor), read from the
    # offset channels `near_channel`/`far_channel`; "paths": a bias per hop count along directed paths over the same
    # edges (ancestor or descendant, within MAX_HOPS); "none": plain attention
    attention_bias: str
    graph_pe: str  # none | laplacian | random_walk | topology (tart/tokens/positional.py)
    pe_dim: int  # width of the laplacian / random_walk encodings
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
        relations = {"edges": 4, "paths": 2 * MAX_HOPS + 2}.get(cfg.attention_bias)
        self.relation_bias = nn.Embedding(relations, cfg.n_heads) if relations else None
        if self.relation_bias is not None:
            nn.init.zeros_(self.relation_bias.weight)
        self.pe_proj = nn.Linear(cfg.pe_dim, cfg.d_model) if cfg.graph_pe in ("laplacian", "random_walk") else None
        if cfg.graph_pe == "topology":  # sinusoids of a node's index and the sum over its predecessors' indices
            self.register_buffer("sinusoid", torch.from_numpy(sinusoid_table(cfg.max_len, cfg.d_model)), False)
            self.topo_proj = nn.Linear(2 * cfg.d_model, cfg.d_model)
        self.blocks = nn.ModuleList(
            Block(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout, cfg.attention_dropout) for _ in range(cfg.n_layers)
        )
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.n_outputs)

    def encode(self, ids: torch.Tensor, graph: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-node states (B, L, D) after the final norm, and the padding mask (B, L); inputs as `forward`."""
        pad = ids[..., 0] == 0  # (B, L)
        x = sum(embed(ids[..., c]) for c, embed in enumerate(self.embed))  # (B, L, D)
        if self.pos is not None:
            x = x + self.pos(torch.arange(ids.shape[1], device=ids.device))[None]  # (1, L, D)
        if self.cfg.graph_pe != "none":
            if graph is None:
                raise ValueError(f"graph_pe={self.cfg.graph_pe!r} needs the graph input; load tokens with it")
            x = x + self._graph_encoding(graph, ids.shape[0], ids.shape[1]).to(x.dtype)
        if self.relation_bias is None:
            bias = torch.zeros(pad.shape, dtype=x.dtype, device=x.device).masked_fill(pad, float("-inf"))
            bias = bias[:, None, None, :]  # (B, 1, 1, L): padded keys get no attention
        elif self.cfg.attention_bias == "paths":
            bias = self._path_bias(ids, pad)  # (B, H, L, L)
        else:
            bias = self._attention_bias(ids, pad)  # (B, H, L, L)
        for block in self.blocks:
            x = block(x, bias)
        return self.norm(x), pad

    def forward(self, ids: torch.Tensor, graph: torch.Tensor | None = None) -> torch.Tensor:
        """ids: (B, L, C) int64, one channel per embedding, 0 = padding; graph: the `graph_pe` input, (B, L, pe_dim)
        float or, for `topology`, (B, L, P) predecessor indices + 1 -> (B, n_outputs)."""
        x, pad = self.encode(ids, graph)
        # masked_fill, not a product: padded rows may hold NaN when the fused inference path skips them
        pooled = x.masked_fill(pad.unsqueeze(-1), 0.0).sum(1) / (~pad).sum(1, keepdim=True).clamp(min=1)  # (B, D)
        return self.head(pooled)

    def _graph_encoding(self, graph: torch.Tensor, b: int, length: int) -> torch.Tensor:
        """(B, L, D) from the graph input of `forward`."""
        if self.cfg.graph_pe == "topology":
            own = self.sinusoid[1 : length + 1].expand(b, -1, -1)  # row i + 1 encodes index i
            preds = self.sinusoid[graph].sum(2)  # (B, L, D); row 0 (no predecessor) is zero
            return self.topo_proj(torch.cat([own, preds], -1))
        if self.cfg.graph_pe == "laplacian" and self.training:  # eigenvector signs are arbitrary: flip at random
            graph = graph * (torch.randint(0, 2, (b, 1, graph.shape[-1]), device=graph.device) * 2 - 1)
        return self.pe_proj(graph)

    def _attention_bias(self, ids: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """Additive attention mask (B, heads, L, L): learned per-head edge biases, -inf on padded keys.

        Relation of key k to query q: 0 none, 1 k is a predecessor of q, 2 a successor, 3 k == q. Only ~3 of each
        query's L keys are related, so the mask is the "none" bias everywhere with the few related pairs written
        over it (an embedding lookup of all L^2 pairs costs more than attention itself on CPU, mostly backward).
        """
        b, length, _ = ids.shape
        pos = torch.arange(length, device=ids.device)
        bi = [torch.arange(b, device=ids.device).repeat_interleave(length)]
        qi, ki = [pos.repeat(b)], [pos.repeat(b)]
        rel = [torch.full((b * length,), 3, device=ids.device)]
        near, far = ids[..., self.cfg.near_channel] - 1, ids[..., self.cfg.far_channel] - 1  # 1 + d; 0 pad, 1 none
        for offset, fresh in ((near, torch.ones_like(pad)), (far, far != near)):  # a single input is near and far
            valid = (offset >= 1) & (offset < MAX_OFFSET) & fresh  # the clipped top token has no exact position
            b_, q_ = valid.nonzero(as_tuple=True)
            k_ = q_ - offset[b_, q_]
            bi += [b_, b_]
            qi += [q_, k_]
            ki += [k_, q_]
            rel += [torch.ones_like(b_), torch.full_like(b_, 2)]
        weight = self.relation_bias.weight  # (4, H)
        dense = weight[0].expand(b, length, length, -1).contiguous()  # (B, Lq, Lk, H)
        dense = dense.index_put((torch.cat(bi), torch.cat(qi), torch.cat(ki)), weight[torch.cat(rel)])
        return dense.permute(0, 3, 1, 2).masked_fill(pad[:, None, None, :], float("-inf"))  # (B, H, Lq, Lk)

    def _path_bias(self, ids: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """Additive attention mask (B, heads, L, L): a learned per-head bias for each relation of key k to query q:
        0 unrelated (or more than MAX_HOPS apart), h in 1..MAX_HOPS: k reaches q in h edges at the fewest (an
        ancestor), MAX_HOPS + h: q reaches k (a descendant), 2 * MAX_HOPS + 1: k == q; -inf on padded keys. Edges
        are read from the offset channels (a node's nearest and farthest predecessor; a third input is not seen)."""
        b, length, _ = ids.shape
        with torch.no_grad():
            step = torch.zeros(b, length, length, device=ids.device)  # step[q, k] = 1: k is a predecessor of q
            pos = torch.arange(length, device=ids.device)
            for channel in (self.cfg.near_channel, self.cfg.far_channel):
                offset = ids[..., channel] - 1  # token 1 + d (d = 0: no input; token 0: padding)
                valid = (offset >= 1) & (offset < MAX_OFFSET)
                b_, q_ = valid.nonzero(as_tuple=True)
                step[b_, q_, q_ - offset[b_, q_]] = 1.0
            hops = torch.zeros(b, length, length, dtype=torch.long, device=ids.device)
            reach = step
            for h in range(1, MAX_HOPS + 1):
                hops = torch.where((reach > 0) & (hops == 0), h, hops)
                reach = torch.bmm(reach, step).clamp_(max=1.0)
            rel = torch.where(hops > 0, hops, (hops.transpose(1, 2) + MAX_HOPS) * (hops.transpose(1, 2) > 0))
            rel = torch.where(pos[:, None] == pos[None, :], 2 * MAX_HOPS + 1, rel)
        return self.relation_bias(rel).permute(0, 3, 1, 2).masked_fill(pad[:, None, None, :], float("-inf"))


class Block(nn.Module):
    """Pre-norm Transformer block on PyTorch's scaled-dot-product attention."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float,
                 attention_dropout: float | None = None) -> None:  # fmt: skip
        super().__init__()
        self.n_heads = n_heads
        self.attention_dropout = dropout if attention_dropout is None else attention_dropout  # None: as `dropout`
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
            dropout_p=self.attention_dropout if self.training else 0.0,
        )  # (B, H, L, Dh)  # fmt: skip
        x = x + self.drop(self.proj(att.transpose(1, 2).reshape(b, length, d)))
        return x + self.drop(self.ff(self.ln2(x)))
