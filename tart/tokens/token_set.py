"""Token shards as padded tensors: every token column a channel, rows in shard order, plus the graph positional
encoding computed from the shards' edges when asked (tart.tokens.positional)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from tart.tokens.positional import graph_input
from tart.tokens.tokenize import CHANNEL_VOCAB


@dataclass
class TokenSet:
    """All token sequences of a token directory, padded: row k is net `nets[k]`."""

    nets: np.ndarray  # (N,)
    ids: torch.Tensor  # (N, L, C) int64, 0 = padding, one channel per token column
    lengths: torch.Tensor  # (N,)
    channels: tuple[str, ...]
    vocab: dict
    graph: torch.Tensor | None = None  # the model's graph input (tart/tokens/positional.py), row-aligned with `ids`
    graph_pe: str = "none"

    def vocab_sizes(self) -> tuple[int, ...]:
        return tuple(len(self.vocab[CHANNEL_VOCAB[c]]) for c in self.channels)

    def select(self, rows: np.ndarray) -> TokenSet:
        """The token set of `rows` only, in that order."""
        graph = None if self.graph is None else self.graph[rows]
        return dataclasses.replace(self, nets=self.nets[rows], ids=self.ids[rows], lengths=self.lengths[rows],
                                   graph=graph)  # fmt: skip

    def to(self, device: torch.device) -> TokenSet:
        """The token set with its tensors on `device` (the lengths stay on the CPU: batching reads them there)."""
        graph = None if self.graph is None else self.graph.to(device)
        return dataclasses.replace(self, ids=self.ids.to(device), graph=graph)


def load_tokens(tokens_dir: Path, channels: tuple[str, ...] = ("tokens",), graph_pe: str = "none",
                pe_dim: int = 8, limit: int | None = None) -> TokenSet:  # fmt: skip
    """Token shards as one padded tensor of the requested channels (`tokens` must come first), plus the graph
    positional encoding `graph_pe` computed from the shards' edges; with `limit`, the first `limit` nets only (the
    shards are read in order until they hold that many)."""
    shards = sorted(tokens_dir.glob("tokens-*.parquet"))
    vocab_path = tokens_dir / "vocab.json"
    if not shards or not vocab_path.exists():
        raise FileNotFoundError(f"{tokens_dir}: no tokens-*.parquet or vocab.json; run the tokenize stage first")
    if channels[0] != "tokens":
        raise ValueError(f"the first channel must be 'tokens' (it marks padding); got {channels}")
    edges = ["edge_src", "edge_dst"] if graph_pe != "none" else []
    parts, count = [], 0
    for shard in shards:
        if limit is not None and count >= limit:
            break
        part = pq.read_table(shard, columns=["net", "length", *channels, *edges])
        parts.append(part if limit is None else part.slice(0, limit - count))
        count += parts[-1].num_rows
    if limit is not None and count < limit:
        raise ValueError(f"{tokens_dir}: {count} nets in its token shards, {limit} asked for")
    return token_set(pa.concat_tables(parts), channels, json.loads(vocab_path.read_text()), graph_pe, pe_dim)


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


def batch_inputs(ts: TokenSet, rows: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(ids (B, width, C), graph input or None), cut to the batch's longest net."""
    idx = torch.from_numpy(rows)
    width = int(ts.lengths[idx].max())
    graph = None if ts.graph is None else ts.graph[idx, :width].to(device)
    return ts.ids[idx, :width].to(device), graph
