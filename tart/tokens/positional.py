"""Graph positional encodings of a net's nodes, computed from its edges when tokens are loaded.

None of these is learned or stored in the token shards (those hold integer ids, edges included); the model maps
them to its width with a learned projection. `train.graph_pe` picks one:

- `laplacian`: the k eigenvectors of the symmetric normalised Laplacian of the undirected graph with the smallest
  non-zero eigenvalues (each sign fixed so its first non-zero entry is positive; the model flips signs at random while
  training, since the sign is arbitrary).
- `random_walk`: the probability that a k-step random walk on the undirected graph returns to its start,
  k = 1..pe_dim: a sign-free, basis-free encoding of each node's neighbourhood.
- `topology`: the NAR-Former topology encoding's predecessor table (each node's predecessor indices); the model
  adds sinusoidal encodings of a node's own index and the sum of its predecessors' to the primitive embedding.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

GRAPH_PES = ("none", "laplacian", "random_walk", "topology")


def adjacency(num_nodes: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Symmetric 0/1 adjacency (n, n) of the undirected graph."""
    adj = np.zeros((num_nodes, num_nodes))
    adj[src, dst] = 1.0
    adj[dst, src] = 1.0
    return adj


def laplacian_pe(num_nodes: int, src: np.ndarray, dst: np.ndarray, k: int) -> np.ndarray:
    """(n, k) float32 eigenvectors of I - D^-1/2 A D^-1/2 after the first (smallest eigenvalue); zero columns when
    the graph has fewer than k + 1 nodes."""
    adj = adjacency(num_nodes, src, dst)
    degree = adj.sum(1)
    inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
    laplacian = np.eye(num_nodes) - inv_sqrt[:, None] * adj * inv_sqrt[None, :]
    _, vectors = np.linalg.eigh(laplacian)  # ascending eigenvalues
    vectors = vectors[:, 1 : k + 1]
    # Deterministic sign: the first entry of non-negligible magnitude is positive (robust to ties in magnitude).
    first = (np.abs(vectors) > 1e-6).argmax(0)
    signs = np.sign(vectors[first, np.arange(vectors.shape[1])])
    out = np.zeros((num_nodes, k), np.float32)
    out[:, : vectors.shape[1]] = vectors * np.where(signs == 0, 1.0, signs)
    return out


def random_walk_pe(num_nodes: int, src: np.ndarray, dst: np.ndarray, k: int) -> np.ndarray:
    """(n, k) float32: column t - 1 is diag(P^t) for the random-walk matrix P = D^-1 A (isolated nodes: 0)."""
    adj = adjacency(num_nodes, src, dst)
    degree = adj.sum(1, keepdims=True)
    walk = np.divide(adj, degree, out=np.zeros_like(adj), where=degree > 0)
    out = np.zeros((num_nodes, k), np.float32)
    power = np.eye(num_nodes)
    for t in range(k):
        power = power @ walk
        out[:, t] = np.diag(power)
    return out


def predecessor_table(num_nodes: int, src: np.ndarray, dst: np.ndarray, width: int) -> np.ndarray:
    """(n, width) int64: each node's predecessors as index + 1, ascending, 0-padded (0 = no predecessor)."""
    table = np.zeros((num_nodes, width), np.int64)
    filled = np.zeros(num_nodes, np.int64)
    for a, b in sorted(zip(src.tolist(), dst.tolist())):
        if filled[b] >= width:
            raise ValueError(f"node {b} has more than {width} predecessors")
        table[b, filled[b]] = a + 1
        filled[b] += 1
    return table


def max_in_degree(dst: np.ndarray) -> int:
    return int(np.bincount(dst).max()) if len(dst) else 0


def sinusoid_table(rows: int, dim: int) -> np.ndarray:
    """(rows + 1, dim) sinusoidal encodings of 0..rows-1 in rows 1..rows; row 0 (no predecessor) is zero."""
    position = np.arange(rows)[:, None]
    freq = np.exp(-np.log(10000.0) * (np.arange(0, dim, 2) / dim))[None, :]
    table = np.zeros((rows + 1, dim), np.float32)
    table[1:, 0::2] = np.sin(position * freq)
    table[1:, 1::2] = np.cos(position * freq)[:, : dim // 2]
    return table


def graph_input(graph_pe: str, pe_dim: int, lengths: list[int], srcs: list, dsts: list,
                progress: bool = False) -> torch.Tensor | None:  # fmt: skip
    """The model's `graph` input for every net, padded to the longest: (N, L, pe_dim) float32 for laplacian /
    random_walk, (N, L, max in-degree) int64 predecessor indices + 1 for topology; None for `none`."""
    if graph_pe == "none":
        return None
    if graph_pe not in GRAPH_PES:
        raise ValueError(f"graph_pe {graph_pe!r}: expected one of {GRAPH_PES}")
    nets = list(zip(lengths, (np.asarray(s, np.int64) for s in srcs), (np.asarray(d, np.int64) for d in dsts)))
    if graph_pe == "topology":
        width = max(1, max(max_in_degree(d) for _, _, d in nets))
        out = np.zeros((len(nets), max(lengths), width), np.int64)
        encode = lambda n, s, d: predecessor_table(n, s, d, width)  # noqa: E731
    else:
        out = np.zeros((len(nets), max(lengths), pe_dim), np.float32)
        pe = laplacian_pe if graph_pe == "laplacian" else random_walk_pe
        encode = lambda n, s, d: pe(n, s, d, pe_dim)  # noqa: E731
    done: dict[tuple, np.ndarray] = {}  # nets of a space share few wirings (NB201: 1,818 of 15,625)
    for k, (n, s, d) in enumerate(tqdm(nets, desc=f"graph_pe {graph_pe}", unit="net", disable=not progress)):
        key = (n, s.tobytes(), d.tobytes())
        if key not in done:
            done[key] = encode(n, s, d)
        out[k, :n] = done[key]
    return torch.from_numpy(out)
