"""FLOPs of NB201 networks, two ways, and for all 15,625 nets from a per-op decomposition measured once.

- `flops_2mac`: PyTorch's FlopCounterMode, 2 FLOPs per multiply-accumulate of convolutions and linear layers, nothing
  else. In NB201 every such layer's cost is tied to its parameters, so this count ranks the nets exactly like the
  parameter count.
- `flops_nb201`: the count of the benchmark's own cost tables (computed by its authors with FLOP-counting hooks):
  one per multiply-accumulate of convolutions and linear layers plus their bias additions, k*k per output element of
  a k*k pooling window, 2 per element of batch normalisation, 1 per element of a ReLU and 1 per input element of
  the global average pooling. These rules reproduce the three costs the benchmark lists (tests): 222.86, 12.31 and
  13.10 MFLOPs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from tart.spaces.nb201.network import NUM_EDGES, OPS, arch_ops, arch_string, build_network


def count_flops_2mac(arch: str, input_size: int = 32) -> int:
    """FLOPs of one forward pass at batch 1 as PyTorch's FlopCounterMode counts them (convs and linears,
    2 per multiply-accumulate), on meta tensors: no arithmetic is done."""
    net = build_network(arch, device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.empty(1, 3, input_size, input_size, device="meta"))
    return int(counter.get_total_flops())


def _layer_flops(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> int:
    """The benchmark's count for one layer at batch 1 (the module docstring); 0 for layers it does not count."""
    out = output[0].numel()
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        positions = output.shape[2] * output.shape[3]
        macs = kh * kw * module.in_channels // module.groups * module.out_channels * positions
        return macs + (module.out_channels * positions if module.bias is not None else 0)
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features + (module.out_features if module.bias is not None else 0)
    if isinstance(module, nn.AvgPool2d | nn.MaxPool2d):
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return out * k * k
    if isinstance(module, nn.BatchNorm2d):
        return 2 * out
    if isinstance(module, nn.ReLU):
        return out
    if isinstance(module, nn.AdaptiveAvgPool2d):
        return inputs[0][0].numel()
    return 0


def count_flops_nb201(arch: str, input_size: int = 32) -> int:
    """The benchmark's FLOPs of one forward pass at batch 1 (the module docstring), from hooks on every layer; the
    shapes come from meta tensors, so no arithmetic is done."""
    net = build_network(arch, device="meta")
    total = 0

    def count(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal total
        total += _layer_flops(module, inputs, output)

    hooks = [m.register_forward_hook(count) for m in net.modules()]
    with torch.no_grad():
        net(torch.empty(1, 3, input_size, input_size, device="meta"))
    for hook in hooks:
        hook.remove()
    return total


COUNTS: dict[str, Callable[[str, int], int]] = {"flops_2mac": count_flops_2mac, "flops_nb201": count_flops_nb201}


@cache
def _edge_op_flops(kind: str, input_size: int) -> tuple[int, dict[str, float]]:
    # Every cell applies its ops independently, so a net's FLOPs are those of the skeleton (all edges `none`)
    # plus one term per edge op; each term is measured once on a net with that op on all six edges.
    count = COUNTS[kind]
    base = count(arch_string(("none",) * NUM_EDGES), input_size)
    per_op = {op: (count(arch_string((op,) * NUM_EDGES), input_size) - base) / NUM_EDGES for op in OPS}
    return base, per_op


def nb201_flops(archs: list[str], kind: str, input_size: int = 32) -> np.ndarray:
    """FLOPs (`kind`: a key of COUNTS) of every NB201 net from the additive decomposition (equal to the full count,
    see tests)."""
    base, per_op = _edge_op_flops(kind, input_size)
    return np.array([base + sum(per_op[op] for op in arch_ops(a)) for a in archs], dtype=np.int64)
