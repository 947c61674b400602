"""DARTS-style networks from a DeepNets-1M `net_args` record (also classic DARTS / NAS-Bench-301 genotypes).

Macro structure (DeepNets-1M, Knyazev et al. 2021, on top of DARTS, Liu et al. 2019): a stem, `n_cells` cells of
which cells n//3 and 2n//3 reduce resolution and multiply channels by `C_mult`, then global average pooling (or a
flattened VGG-style head) and 1-2 linear layers. A cell has two inputs (the outputs of the previous two cells, after
optional 1x1 pre-processing), `steps` intermediate nodes, each the sum of two ops applied to earlier nodes, and
concatenates the nodes listed in its concat list. Nets with `msa` are ViT-like: a patchifying stem plus a learned
positional encoding, and no strided cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from tart.graphs.edit import simplify
from tart.graphs.from_module import module_to_graph
from tart.graphs.graph import ArchGraph
from tart.spaces.darts.ops import (
    GRAPH_PRIMITIVES,
    FactorizedReduce,
    PosEnc,
    ReLUConvBN,
    Subsample,
    make_op,
    norm_layer,
    parse_op,
)

Edge = tuple[str, int]  # (op name, index of the input state: 0/1 = cell inputs, 2.. = earlier steps)


class NetArgsError(ValueError):
    """A `net_args` record that does not describe a buildable network."""


@dataclass(frozen=True)
class Genotype:
    normal: tuple[Edge, ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[Edge, ...]
    reduce_concat: tuple[int, ...]

    @classmethod
    def from_record(cls, record: dict) -> Genotype:
        """From the meta JSON form `{"normal": [[op, input], ...], "normal_concat": [...], ...}`."""
        try:
            return cls(
                tuple((str(op), int(i)) for op, i in record["normal"]),
                tuple(int(i) for i in record["normal_concat"]),
                tuple((str(op), int(i)) for op, i in record["reduce"]),
                tuple(int(i) for i in record["reduce_concat"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise NetArgsError(f"genotype {record!r}: expected normal/reduce lists of [op, input] pairs and "
                               f"normal_concat/reduce_concat lists of ints ({exc})") from exc  # fmt: skip

    def to_record(self) -> dict:
        return {
            "normal": [list(e) for e in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [list(e) for e in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    def ops(self) -> list[str]:
        return [op for op, _ in self.normal + self.reduce]


# Published genotype of DARTS second-order search on CIFAR-10 (Liu et al., ICLR 2019).
DARTS_V2 = Genotype(
    normal=(("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)),
    normal_concat=(2, 3, 4, 5),
    reduce=(("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)),
    reduce_concat=(2, 3, 4, 5),
)  # fmt: skip


@dataclass(frozen=True)
class NetArgs:
    """The fields of a DeepNets-1M `net_args` record that define the network."""

    genotype: Genotype
    n_cells: int
    C: int = 32
    C_mult: int = 2
    ks: int = 3
    stem_type: int = 0
    stem_pool: bool = False
    norm: str | None = "bnorm"
    preproc: bool = True
    glob_avg: bool = True
    fc_layers: int = 1
    fc_dim: int = 256

    @classmethod
    def from_record(cls, record: dict, C: int | None = None) -> NetArgs:
        """From a meta record; `C` overrides the record's channel count (the published eval meta has one)."""
        try:
            return cls(
                Genotype.from_record(record["genotype"]), int(record["n_cells"]), int(C or record.get("C", 32)),
                int(record["C_mult"]), int(record["ks"]), int(record["stem_type"]), bool(record["stem_pool"]),
                record["norm"], bool(record["preproc"]), bool(record["glob_avg"]), int(record["fc_layers"]),
                int(record["fc_dim"]),
            )  # fmt: skip
        except KeyError as exc:
            raise NetArgsError(f"net_args record lacks the field {exc}") from None

    def to_record(self) -> dict:
        return {
            "stem_type": self.stem_type, "stem_pool": self.stem_pool, "norm": self.norm, "preproc": self.preproc,
            "fc_layers": self.fc_layers, "glob_avg": self.glob_avg, "genotype": self.genotype.to_record(),
            "n_cells": self.n_cells, "ks": self.ks, "C_mult": self.C_mult, "fc_dim": self.fc_dim,
        }  # fmt: skip

    @property
    def is_vit(self) -> bool:
        return "msa" in self.genotype.ops()


def is_reduction(cell: int, n_cells: int) -> bool:
    return cell > 0 and cell in (n_cells // 3, 2 * n_cells // 3)


class Cell(nn.Module):
    def __init__(
        self, args: NetArgs, c_pp: int, c_p: int, c_in: int, c_out: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        vit, norm = args.is_vit, args.norm
        if args.preproc:
            if reduction_prev and not vit:
                self.preprocess0: nn.Module = FactorizedReduce(c_pp, c_out, norm)
            else:
                self.preprocess0 = ReLUConvBN(c_pp, c_out, 1, 1, norm)
            self.preprocess1: nn.Module = ReLUConvBN(c_p, c_out, 1, 1, norm)
        else:
            self.preprocess0 = Subsample(2) if reduction_prev and not vit else nn.Identity()
            self.preprocess1 = nn.Identity()
        genotype = args.genotype
        edges = genotype.reduce if reduction else genotype.normal
        self.concat = genotype.reduce_concat if reduction else genotype.normal_concat
        if len(edges) % 2 or not edges:
            raise NetArgsError(f"cell genotype {edges}: expected a non-empty, even number of (op, input) pairs")
        self.inputs = [i for _, i in edges]
        for step, i in enumerate(self.inputs):
            if not 0 <= i < 2 + step // 2:
                raise NetArgsError(f"cell genotype {edges}: op {step} reads state {i}, which is not yet computed")
        if any(not 0 <= i < 2 + len(edges) // 2 for i in self.concat):
            raise NetArgsError(f"concat list {self.concat} names a state outside 0..{1 + len(edges) // 2}")
        ops = []
        for op, i in edges:
            stride = 2 if reduction and i < 2 and not vit else 1
            ops.append(make_op(op, c_in if i <= 1 else c_out, c_out, stride, norm))
        self.has_op = [m is not None for m in ops]
        self._ops = nn.ModuleList(m if m is not None else nn.Identity() for m in ops)
        self.multiplier = len(self.concat)

    def forward(self, s0: torch.Tensor | None, s1: torch.Tensor | None) -> torch.Tensor | None:
        states: list[torch.Tensor | None] = [
            None if s0 is None else self.preprocess0(s0),
            None if s1 is None else self.preprocess1(s1),
        ]
        for step in range(len(self.inputs) // 2):
            terms = []
            for k in (2 * step, 2 * step + 1):
                h = states[self.inputs[k]]
                if self.has_op[k] and h is not None:
                    terms.append(self._ops[k](h))
            states.append(None if not terms else terms[0] if len(terms) == 1 else terms[0] + terms[1])
        chosen = [states[i] for i in self.concat]
        present = [s for s in chosen if s is not None]
        if not present:
            return None
        # A state that `none` ops cut off contributes zeros (shape of a present state), as in DeepNets-1M.
        return torch.cat([s if s is not None else torch.zeros_like(present[0]) for s in chosen], dim=1)


class DartsNetwork(nn.Module):
    """A DeepNets-1M network; `imagenet` selects 224x224 input (else 32x32 CIFAR); returns logits only."""

    def __init__(self, args: NetArgs, num_classes: int = 10, imagenet: bool = False) -> None:
        super().__init__()
        self.args, self.input_size = args, 224 if imagenet else 32
        C, norm, steps = args.C, args.norm, len(args.genotype.normal_concat)
        if (steps > 1 or args.C_mult > 1) and not args.preproc:
            raise NetArgsError("preproc must be true when a cell concatenates several states or C_mult > 1")
        if args.stem_type not in (0, 1):
            raise NetArgsError(f"stem_type {args.stem_type}: expected 0 (simple) or 1 (ImageNet-style)")
        c_pp = c_p = c_curr = C
        if args.is_vit:
            patch = 16 if imagenet else 3
            self.stem0 = nn.Conv2d(3, C, patch, stride=patch, padding=int(patch < 4), bias=False)
            self.pos_enc = PosEnc(C, 14 if imagenet else 11)
        elif args.stem_type == 0:
            c_stem = C * (3 if args.preproc and not imagenet else 1)
            self.stem = nn.Sequential(
                nn.Conv2d(3, c_stem, args.ks, stride=4 if imagenet else 1, padding=args.ks // 2, bias=False),
                norm_layer(norm, c_stem),
                nn.MaxPool2d(3, stride=2, padding=1) if args.stem_pool else nn.Identity(),
            )
            c_pp = c_p = c_stem
        else:
            first = 2 if imagenet else 1
            self.stem0 = nn.Sequential(
                nn.Conv2d(3, C // 2, args.ks, stride=first, padding=args.ks // 2, bias=False),
                norm_layer(norm, C // 2),
                nn.ReLU(),
                nn.Conv2d(C // 2, C, 3, stride=first, padding=1, bias=False),
                norm_layer(norm, C),
            )
            self.stem1 = nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 3, stride=2, padding=1, bias=False),
                                       norm_layer(norm, C))  # fmt: skip
        self.cells = nn.ModuleList()
        reduction_prev = args.stem_type == 1
        for k in range(args.n_cells):
            reduction = is_reduction(k, args.n_cells)
            c_curr *= args.C_mult if reduction else 1
            widen = is_reduction(k + 1, args.n_cells) and steps == 1 and not args.preproc
            c_out = c_curr * (args.C_mult if widen else 1)
            cell = Cell(args, c_pp, c_p, c_curr if args.preproc else c_p, c_out, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            c_pp, c_p = c_p, cell.multiplier * c_curr
        if args.glob_avg:
            self.global_pooling = nn.AdaptiveAvgPool2d(1)
        else:
            side = (7 if args.stem_type == 1 or args.stem_pool else 14) if imagenet else (
                4 if args.stem_type == 1 or args.stem_pool else 8)  # fmt: skip
            c_p *= side**2
        fc: list[nn.Module] = [nn.Linear(c_p, args.fc_dim if args.fc_layers > 1 else num_classes)]
        for k in range(args.fc_layers - 1):
            last = k == args.fc_layers - 2
            fc += [nn.ReLU(), nn.Dropout(0.5), nn.Linear(args.fc_dim, num_classes if last else args.fc_dim)]
        self.classifier = nn.Sequential(*fc)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.args.is_vit:
            s0 = s1 = self.pos_enc(self.stem0(x))
        elif self.args.stem_type == 1:
            s0 = self.stem0(x)
            s1 = self.stem1(s0)
        else:
            s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        if s1 is None:
            raise NetArgsError("the network's output is cut off: every path ends in a `none` op")
        out = self.global_pooling(s1) if self.args.glob_avg else s1
        return self.classifier(torch.flatten(out, 1))


def build_network(
    args: NetArgs | dict, *, num_classes: int = 10, imagenet: bool = False, device: str = "meta"
) -> DartsNetwork:
    """The `nn.Module` of a net; on the meta device by default (no memory, enough for graphs and counts)."""
    args = args if isinstance(args, NetArgs) else NetArgs.from_record(args)
    for op in args.genotype.ops():
        parse_op(op)
    with torch.device(device):
        return DartsNetwork(args, num_classes, imagenet)


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def strip_cell_prefix(name: str) -> str:
    """`cells.3._ops.0.op.1.weight` -> `_ops.0.op.1.weight` (the cell index is a separate column in the files)."""
    if name.startswith("cells."):
        return name.split(".", 2)[2]
    return name


def darts_graph(args: NetArgs | dict, *, imagenet: bool = False) -> ArchGraph:
    """The DeepNets-1M graph of a net, with the dataset's naming (no cell prefix; primitive name if parameter-free)."""
    net = build_network(args, imagenet=imagenet)
    graph = simplify(module_to_graph(net, custom_primitives=GRAPH_PRIMITIVES))
    primitive_names = graph.primitive_names()
    graph.names = [strip_cell_prefix(n) if s else p for n, s, p in zip(graph.names, graph.shapes, primitive_names)]
    return graph
