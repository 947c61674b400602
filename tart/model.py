"""The TART Transformer: node tokens -> pre-norm Transformer encoder -> mean pooling -> regression head."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class TartConfig:
    vocab_size: int  # primitive tokens incl. padding id 0
    shape_vocab_size: int  # parameter-shape tokens incl. padding id 0
    max_len: int
    d_model: int = 64
    n_layers: int = 3
    n_heads: int = 4
    d_ff: int = 128
    dropout: float = 0.0
    positions: str = "learned"  # "learned" or "none" (the latter makes the model order-blind)
    use_shapes: bool = True
    n_outputs: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


class TartModel(nn.Module):
    def __init__(self, cfg: TartConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=0)
        self.shape = nn.Embedding(cfg.shape_vocab_size, cfg.d_model, padding_idx=0) if cfg.use_shapes else None
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model) if cfg.positions == "learned" else None
        layer = nn.TransformerEncoderLayer(
            cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.n_outputs)

    def forward(self, tokens: torch.Tensor, shape_tokens: torch.Tensor) -> torch.Tensor:
        """tokens, shape_tokens: (B, L) int64 with 0 = padding -> (B, n_outputs)."""
        pad = tokens == 0  # (B, L)
        x = self.tok(tokens)  # (B, L, D)
        if self.shape is not None:
            x = x + self.shape(shape_tokens)
        if self.pos is not None:
            x = x + self.pos(torch.arange(tokens.shape[1], device=tokens.device))[None]  # (1, L, D)
        x = self.norm(self.encoder(x, src_key_padding_mask=pad))
        keep = (~pad).unsqueeze(-1).to(x.dtype)  # (B, L, 1)
        pooled = (x * keep).sum(1) / keep.sum(1).clamp(min=1)  # (B, D)
        return self.head(pooled)
