"""NAS-Bench-201: the 15,625 cells as real PyTorch networks (macro skeleton of Dong & Yang, ICLR 2020).

Cell: 4 nodes; node j sums op(node i) over i < j; ops none / skip_connect / nor_conv_1x1 / nor_conv_3x3 /
avg_pool_3x3. `none` edges are left out of the module (they add zeros), so the built graph has no edge for them.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

from tart.graphs.from_module import module_to_graph
from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_EDGES = 6
NUM_CELLS = 15625
CELLS_PER_STAGE = 5
STAGE_CHANNELS = (16, 32, 64)


class ArchStringError(ValueError):
    """An NB201 architecture string that does not describe a cell."""


def parse_arch(arch: str) -> list[list[tuple[str, int]]]:
    """`|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` -> [[(op, 0)], [(op, 0), (op, 1)], [(op, 0), (op, 1), (op, 2)]]."""
    nodes = arch.split("+")
    if len(nodes) != 3:
        raise ArchStringError(f"{arch!r}: expected 3 nodes separated by '+', found {len(nodes)}")
    parsed = []
    for j, node in enumerate(nodes, start=1):
        parts = [p for p in node.strip().strip("|").split("|") if p]
        edges = []
        for part in parts:
            op, _, src = part.partition("~")
            if op not in OPS or not src.isdigit():
                raise ArchStringError(f"{arch!r}: edge {part!r} is not 'op~input' with op in {OPS}")
            edges.append((op, int(src)))
        if sorted(src for _, src in edges) != list(range(j)):
            raise ArchStringError(f"{arch!r}: node {j} must have one edge from each of nodes 0..{j - 1}")
        parsed.append(sorted(edges, key=lambda e: e[1]))
    return parsed


def arch_ops(arch: str) -> tuple[str, ...]:
    """The six edge ops in the order (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2)."""
    return tuple(op for node in parse_arch(arch) for op, _ in node)


def arch_string(ops: tuple[str, ...]) -> str:
    """Inverse of `arch_ops`."""
    it = iter(ops)
    return "+".join("|" + "|".join(f"{next(it)}~{i}" for i in range(j)) + "|" for j in (1, 2, 3))


def all_arch_ops() -> list[tuple[str, ...]]:
    """All 5^6 op tuples (not in official index order: indices come from the benchmark's tables)."""
    return list(itertools.product(OPS, repeat=NUM_EDGES))


class ReLUConvBN(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


def make_op(op: str, channels: int) -> nn.Module:
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ArchStringError(f"op {op!r} has no module (none edges are omitted)")


class Cell(nn.Module):
    def __init__(self, arch: str, channels: int) -> None:
        super().__init__()
        self.nodes = parse_arch(arch)
        self.edges = nn.ModuleDict()
        for j, node in enumerate(self.nodes, start=1):
            for op, i in node:
                if op != "none":
                    self.edges[f"{j}<-{i}"] = make_op(op, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states: list[torch.Tensor | None] = [x]
        for j, node in enumerate(self.nodes, start=1):
            terms = [self.edges[f"{j}<-{i}"](states[i]) for op, i in node if op != "none" and states[i] is not None]
            states.append(sum(terms[1:], terms[0]) if terms else None)
        return states[-1] if states[-1] is not None else torch.zeros_like(x)


class ResidualBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)


class NB201Network(nn.Module):
    """Stem, three stages of 5 cells separated by residual blocks, BN-ReLU, global pooling, linear classifier.

    `cells` holds the 17 blocks in order (15 cells and the 2 residual blocks), so a node's cell index is its block.
    """

    def __init__(self, arch: str, num_classes: int = 10) -> None:
        super().__init__()
        c0 = STAGE_CHANNELS[0]
        self.stem = stem(c0)
        blocks: list[nn.Module] = []
        c_prev = c0
        for stage, c in enumerate(STAGE_CHANNELS):
            if stage > 0:
                blocks.append(ResidualBlock(c_prev, c))
            blocks.extend(Cell(arch, c) for _ in range(CELLS_PER_STAGE))
            c_prev = c
        self.cells = nn.ModuleList(blocks)
        self.head = Head(c_prev, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.head(x)


class Head(nn.Module):
    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.lastact = nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU())
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.global_pooling(self.lastact(x)), 1))


def stem(channels: int = STAGE_CHANNELS[0]) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))


def build_network(arch: str, num_classes: int = 10, device: str | torch.device = "meta") -> NB201Network:
    """The real network of `arch`; on the meta device by default (shapes only, no memory, no init cost)."""
    with torch.device(device):
        return NB201Network(arch, num_classes)


def _num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def count_params(arch: str, num_classes: int = 10) -> int:
    """Trainable parameters of the built network."""
    return _num_params(build_network(arch, num_classes))


class GraphComposer:
    """The graph of any NB201 network, assembled from converted blocks.

    The stem, the two residual blocks and the head are the same in every network, so each is converted once;
    the three cells of an architecture (one per width) are converted once per architecture and reused for the
    five repeats. The result equals `module_to_graph(build_network(arch))` (a test checks it), at a fraction
    of the cost.
    """

    def __init__(self, num_classes: int = 10) -> None:
        c = STAGE_CHANNELS
        with torch.device("meta"):
            fixed = [stem(c[0]), *(ResidualBlock(a, b) for a, b in zip(c, c[1:])), Head(c[-1], num_classes)]
        self.stem, *self.res, self.head = [module_to_graph(m) for m in fixed]
        self.fixed_params = sum(_num_params(m) for m in fixed)

    def graph(self, arch: str) -> tuple[ArchGraph, int]:
        """The network graph of `arch` and the network's parameter count."""
        with torch.device("meta"):
            modules = [Cell(arch, ch) for ch in STAGE_CHANNELS]
        cells = [module_to_graph(m) for m in modules]
        params = self.fixed_params + CELLS_PER_STAGE * sum(_num_params(m) for m in modules)
        g = ArchGraph()
        x = frozenset({g.add_node(PRIMITIVE_ID["input"], 0, "input", (), [])})
        x = g.splice(self.stem, x, 0, "stem.")
        block = 0
        for stage, cell in enumerate(cells):
            if stage > 0:
                x = g.splice(self.res[stage - 1], x, block, f"cells.{block}.")
                block += 1
            for _ in range(CELLS_PER_STAGE):
                x = g.splice(cell, x, block, f"cells.{block}.")
                block += 1
        g.outputs = g.splice(self.head, x, block - 1, "head.")
        return g, params
