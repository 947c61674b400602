"""A TG-NAS-style predictor (Qiao et al., 2024): a GCN over NB201 cell DAGs whose node features are sentence
embeddings of operator descriptions (`tart.models.op_embeddings`, fixed, not trained).

Kipf-style graph convolutions on the undirected cell DAG with self-loops and symmetric normalisation, plus a
global readout node linked to every node; the readout node's final state feeds the head. Edges into and out of
`none` nodes are dropped (nothing flows through a zero op). The DAG numbering does not matter to a GCN, which a
test checks with every topological renumbering.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from tart.spaces.nb201.cells import NODE_OPS


@dataclass(frozen=True)
class TgnasConfig:
    width: int
    n_layers: int
    dropout: float

    def to_dict(self) -> dict:
        return asdict(self)


class TgnasGCN(nn.Module):
    def __init__(self, cfg: TgnasConfig, embeddings: torch.Tensor) -> None:
        super().__init__()
        self.cfg = cfg
        self.register_buffer("embeddings", embeddings.float())  # (n_ops, dim), fixed features
        dim = embeddings.shape[1]
        self.none_id = NODE_OPS.index("none")
        self.global_feature = nn.Parameter(torch.zeros(dim))  # the readout node's input feature
        self.inp = nn.Linear(dim, cfg.width)
        self.convs = nn.ModuleList(nn.Linear(cfg.width, cfg.width) for _ in range(cfg.n_layers))
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Sequential(nn.Linear(cfg.width, cfg.width), nn.ReLU(), nn.Linear(cfg.width, 1))

    def normalized_adjacency(self, ops: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """(B, 8) ops, (B, 8, 8) bool with [i, j] = j feeds i -> (B, 9, 9) D^-1/2 (A + I) D^-1/2, node 8 global."""
        live = ops != self.none_id
        a = adj & live[:, :, None] & live[:, None, :]
        a = (a | a.transpose(1, 2)).float()
        b, n = ops.shape
        full = torch.ones(b, n + 1, n + 1, device=ops.device)  # global node row and column: linked to all
        full[:, :n, :n] = a + torch.eye(n, device=ops.device)
        d = full.sum(-1).rsqrt()
        return d[:, :, None] * full * d[:, None, :]

    def forward(self, ops: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        x = self.embeddings[ops]  # (B, 8, dim)
        x = torch.cat([x, self.global_feature.expand(len(ops), 1, -1)], dim=1)  # (B, 9, dim)
        norm = self.normalized_adjacency(ops, adj)
        h = torch.relu(self.inp(x))
        for conv in self.convs:
            h = self.drop(torch.relu(norm @ conv(h)))  # (B, 9, width)
        return torch.sigmoid(self.head(h[:, -1])).squeeze(-1)  # (B,) in (0, 1), like the targets
