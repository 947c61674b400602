"""FLOPs of NB201 networks: counted by PyTorch on meta tensors, and for all 15,625 nets from a per-op
decomposition measured once."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from tart.spaces.nb201.network import NUM_EDGES, OPS, arch_ops, arch_string, build_network


def count_flops(arch: str, input_size: int = 32) -> int:
    """FLOPs of one forward pass at batch 1 as PyTorch's FlopCounterMode counts them (convs and linears,
    2 per multiply-accumulate), on meta tensors: no arithmetic is done."""
    net = build_network(arch, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.empty(1, 3, input_size, input_size, device="meta"))
    return int(counter.get_total_flops())


@cache
def _edge_op_flops(input_size: int) -> tuple[int, dict[str, float]]:
    # Every cell applies its ops independently, so a net's FLOPs are those of the skeleton (all edges `none`)
    # plus one term per edge op; each term is measured once on a net with that op on all six edges.
    base = count_flops(arch_string(("none",) * NUM_EDGES), input_size)
    per_op = {op: (count_flops(arch_string((op,) * NUM_EDGES), input_size) - base) / NUM_EDGES for op in OPS}
    return base, per_op


def nb201_flops(archs: list[str], input_size: int = 32) -> np.ndarray:
    """FLOPs of every NB201 net from the additive decomposition (equal to count_flops, see tests)."""
    base, per_op = _edge_op_flops(input_size)
    return np.array([base + sum(per_op[op] for op in arch_ops(a)) for a in archs], dtype=np.int64)
