"""DeepNets-1M graphs and parameter counts straight from `net_args`, without building modules (~20x faster).

`darts.darts_graph` is the reference: it builds the `nn.Module` and converts it with `torch.fx`. This module emits
the same nodes in the same order by walking the same forward pass symbolically, which is what a million-net
generator needs. Tests check both paths give identical graphs and counts on the reference files and on generated
nets; any change to `darts_ops` must be mirrored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tart.graphs.edit import simplify
from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID
from tart.spaces.darts.network import NetArgs, NetArgsError, is_reduction
from tart.spaces.darts.ops import parse_op

Src = frozenset[int]
NONE: Src = frozenset()


@dataclass
class _Emitter:
    graph: ArchGraph = field(default_factory=ArchGraph)
    cell: int = 0

    def node(self, primitive: str, name: str, shape: tuple[int, ...], sources: Src) -> Src:
        return frozenset({self.graph.add_node(PRIMITIVE_ID[primitive], self.cell, name, shape, list(sources))})

    def conv(self, name: str, c_in: int, c_out: int, kernel: tuple[int, int], src: Src, groups: int = 1,
             dilation: int = 1) -> Src:  # fmt: skip
        primitive = "conv" if groups == 1 else ("dil_conv" if dilation > 1 else "sep_conv")
        return self.node(primitive, f"{name}.weight", (c_out, c_in // groups, *kernel), src)

    def linear(self, name: str, c_in: int, c_out: int, src: Src) -> Src:
        out = self.node("conv", f"{name}.weight", (c_out, c_in), src)
        return self.node("bias", f"{name}.bias", (c_out,), out)

    def norm(self, norm: str | None, name: str, channels: int, src: Src) -> Src:
        return src if norm is None else self.node("bn", f"{name}.weight", (channels,), src)

    def merge(self, primitive: str, inputs: list[Src]) -> Src:
        inputs = [s for s in inputs if s]
        if len(inputs) < 2:
            return frozenset().union(*inputs)
        return self.node(primitive, primitive, (), frozenset().union(*inputs))


def _bn(norm: str | None, c: int) -> int:
    return 0 if norm is None else 2 * c


def op_params(name: str, c_in: int, c_out: int, stride: int, norm: str | None) -> int:
    """Parameters of the module `darts_ops.make_op` builds for one cell edge."""
    kind, ks = parse_op(name)
    if kind in ("none", "avg_pool", "max_pool") or (kind == "skip_connect" and stride == 1):
        return 0
    if kind == "skip_connect":
        return 2 * c_in * (c_out // 2) + _bn(norm, c_out)
    if kind == "conv":
        return c_in * c_out * ks * ks + _bn(norm, c_out)
    if kind == "conv2":
        return c_in * c_in * ks + c_in * c_out * ks + _bn(norm, c_out)
    if kind == "sep_conv":
        return 2 * c_in * ks * ks + c_in * c_in + _bn(norm, c_in) + c_in * c_out + _bn(norm, c_out)
    if kind == "dil_conv":
        return c_in * ks * ks + c_in * c_out + _bn(norm, c_out)
    if kind == "msa":
        inner = (c_in // 8) * 8
        return 4 * c_in + 3 * c_in * inner + inner * c_in + c_in + 2 * (c_in * c_in + c_in)
    half = c_in // 2
    return c_in * half + half + half * c_in + c_in  # cse


def _emit_op(e: _Emitter, path: str, name: str, c_in: int, c_out: int, stride: int, norm: str | None,
             x: Src) -> Src:  # fmt: skip
    kind, ks = parse_op(name)
    if kind == "skip_connect":
        return x if stride == 1 else _emit_factorized(e, path, c_in, c_out, norm, x)
    if kind in ("avg_pool", "max_pool"):
        return e.node(kind, kind, (), x)
    if kind in ("conv", "conv2"):
        if kind == "conv2":
            x = e.conv(f"{path}.op.1", c_in, c_in, (1, ks), x)
            x = e.conv(f"{path}.op.2", c_in, c_out, (ks, 1), x)
            return e.norm(norm, f"{path}.op.3", c_out, x)
        return e.norm(norm, f"{path}.op.2", c_out, e.conv(f"{path}.op.1", c_in, c_out, (ks, ks), x))
    if kind == "sep_conv":
        x = e.conv(f"{path}.op.1", c_in, c_in, (ks, ks), x, groups=c_in)
        x = e.norm(norm, f"{path}.op.3", c_in, e.conv(f"{path}.op.2", c_in, c_in, (1, 1), x))
        x = e.conv(f"{path}.op.5", c_in, c_in, (ks, ks), x, groups=c_in)
        return e.norm(norm, f"{path}.op.7", c_out, e.conv(f"{path}.op.6", c_in, c_out, (1, 1), x))
    if kind == "dil_conv":
        x = e.conv(f"{path}.op.1", c_in, c_in, (ks, ks), x, groups=c_in, dilation=2)
        return e.norm(norm, f"{path}.op.3", c_out, e.conv(f"{path}.op.2", c_in, c_out, (1, 1), x))
    if kind == "msa":
        inner = (c_in // 8) * 8
        h = e.node("ln", f"{path}.ln1.weight", (c_in,), x)
        h = e.node("conv", f"{path}.to_qkv.weight", (3 * inner, c_in), h)
        h = e.linear(f"{path}.to_out.0", inner, c_out, e.node("msa", "msa", (), h))
        out = e.merge("sum", [h, x])
        h = e.node("ln", f"{path}.ln2.weight", (c_out,), out)
        h = e.linear(f"{path}.ff.net.3", c_out, c_in, e.linear(f"{path}.ff.net.0", c_in, c_out, h))
        return e.merge("sum", [h, out])
    gate = e.linear(f"{path}.fc2", c_in // 2, c_in, e.linear(f"{path}.fc1", c_in, c_in // 2, x))  # cse
    return e.node("cse", "cse", (), x | gate)


def _emit_relu_conv_bn(e: _Emitter, path: str, c_in: int, c_out: int, norm: str | None, x: Src) -> Src:
    return e.norm(norm, f"{path}.op.2", c_out, e.conv(f"{path}.op.1", c_in, c_out, (1, 1), x))


def _emit_factorized(e: _Emitter, path: str, c_in: int, c_out: int, norm: str | None, x: Src) -> Src:
    a = e.conv(f"{path}.conv_1", c_in, c_out // 2, (1, 1), x)
    b = e.conv(f"{path}.conv_2", c_in, c_out // 2, (1, 1), x)
    return e.norm(norm, f"{path}.bn", c_out, e.merge("concat", [a, b]))


def plan(args: NetArgs, imagenet: bool = False) -> tuple[int, list[dict], int]:
    """(stem output channels, per-cell channel plan, classifier input width), mirroring `DartsNetwork`."""
    C, steps = args.C, len(args.genotype.normal_concat)
    if (steps > 1 or args.C_mult > 1) and not args.preproc:
        raise NetArgsError("preproc must be true when a cell concatenates several states or C_mult > 1")
    simple_stem = not args.is_vit and args.stem_type == 0
    c_stem = C * (3 if args.preproc and not imagenet else 1) if simple_stem else C
    c_pp = c_p = c_stem
    c_curr, cells, reduction_prev = C, [], args.stem_type == 1
    for k in range(args.n_cells):
        reduction = is_reduction(k, args.n_cells)
        c_curr *= args.C_mult if reduction else 1
        widen = is_reduction(k + 1, args.n_cells) and steps == 1 and not args.preproc
        c_out = c_curr * (args.C_mult if widen else 1)
        concat = args.genotype.reduce_concat if reduction else args.genotype.normal_concat
        cells.append({"c_pp": c_pp, "c_p": c_p, "c_in": c_curr if args.preproc else c_p, "c_out": c_out,
                      "reduction": reduction, "reduction_prev": reduction_prev})  # fmt: skip
        reduction_prev = reduction
        c_pp, c_p = c_p, len(concat) * c_curr
    if not args.glob_avg:
        side = (7 if args.stem_type == 1 or args.stem_pool else 14) if imagenet else (
            4 if args.stem_type == 1 or args.stem_pool else 8)  # fmt: skip
        c_p *= side**2
    return c_stem, cells, c_p


def count_params_fast(args: NetArgs, num_classes: int = 10, imagenet: bool = False) -> int:
    """Parameters of `build_network(args, num_classes=..., imagenet=...)`, by arithmetic."""
    C, norm = args.C, args.norm
    c_stem, cells, c_head = plan(args, imagenet)
    if args.is_vit:
        patch, side = (16, 14) if imagenet else (3, 11)
        total = 3 * C * patch * patch + C * side * side
    elif args.stem_type == 0:
        total = 3 * c_stem * args.ks**2 + _bn(norm, c_stem)
    else:
        total = 3 * (C // 2) * args.ks**2 + _bn(norm, C // 2) + (C // 2) * C * 9 + _bn(norm, C)
        total += C * C * 9 + _bn(norm, C)
    for cell in cells:
        if args.preproc:
            if cell["reduction_prev"] and not args.is_vit:
                total += 2 * cell["c_pp"] * (cell["c_out"] // 2) + _bn(norm, cell["c_out"])
            else:
                total += cell["c_pp"] * cell["c_out"] + _bn(norm, cell["c_out"])
            total += cell["c_p"] * cell["c_out"] + _bn(norm, cell["c_out"])
        edges = args.genotype.reduce if cell["reduction"] else args.genotype.normal
        for op, i in edges:
            stride = 2 if cell["reduction"] and i < 2 and not args.is_vit else 1
            total += op_params(op, cell["c_in"] if i <= 1 else cell["c_out"], cell["c_out"], stride, norm)
    widths = [c_head] + [args.fc_dim] * (args.fc_layers - 1) + [num_classes]
    return total + sum(a * b + b for a, b in zip(widths, widths[1:]))


def fast_graph(args: NetArgs | dict) -> ArchGraph:
    """The graph `darts.darts_graph` gives (CIFAR input), emitted directly."""
    args = args if isinstance(args, NetArgs) else NetArgs.from_record(args)
    C, norm, vit = args.C, args.norm, args.is_vit
    c_stem, cells, c_head = plan(args)
    e = _Emitter()
    x = e.node("input", "input", (), NONE)
    if vit:
        x = e.conv("stem0", 3, C, (3, 3), x)
        s0 = s1 = e.merge("sum", [x, e.node("pos_enc", "pos_enc.weight", (1, C, 11, 11), NONE)])
    elif args.stem_type == 1:
        x = e.norm(norm, "stem0.1", C // 2, e.conv("stem0.0", 3, C // 2, (args.ks, args.ks), x))
        s0 = e.norm(norm, "stem0.4", C, e.conv("stem0.3", C // 2, C, (3, 3), x))
        s1 = e.norm(norm, "stem1.2", C, e.conv("stem1.1", C, C, (3, 3), s0))
    else:
        x = e.norm(norm, "stem.1", c_stem, e.conv("stem.0", 3, c_stem, (args.ks, args.ks), x))
        s0 = s1 = e.node("max_pool", "max_pool", (), x) if args.stem_pool else x
    states_in: tuple[Src | None, Src | None] = (s0, s1)
    for k, cell in enumerate(cells):
        e.cell = k
        out = _emit_cell(e, args, cell, *states_in)
        states_in = (states_in[1], out)
    if states_in[1] is None:
        raise NetArgsError("the network's output is cut off: every path ends in a `none` op")
    x = e.node("glob_avg", "glob_avg", (), states_in[1]) if args.glob_avg else states_in[1]
    widths = [c_head] + [args.fc_dim] * (args.fc_layers - 1) + [10]
    for j, (a, b) in enumerate(zip(widths, widths[1:])):
        x = e.linear(f"classifier.{3 * j}", a, b, x)
    e.graph.outputs = x
    return simplify(e.graph)


def _emit_cell(e: _Emitter, args: NetArgs, cell: dict, s0: Src | None, s1: Src | None) -> Src | None:
    norm, c_out = args.norm, cell["c_out"]
    if args.preproc:
        if s0 is not None:
            if cell["reduction_prev"] and not args.is_vit:
                s0 = _emit_factorized(e, "preprocess0", cell["c_pp"], c_out, norm, s0)
            else:
                s0 = _emit_relu_conv_bn(e, "preprocess0", cell["c_pp"], c_out, norm, s0)
        if s1 is not None:
            s1 = _emit_relu_conv_bn(e, "preprocess1", cell["c_p"], c_out, norm, s1)
    genotype = args.genotype
    edges = genotype.reduce if cell["reduction"] else genotype.normal
    concat = genotype.reduce_concat if cell["reduction"] else genotype.normal_concat
    states: list[Src | None] = [s0, s1]
    for step in range(len(edges) // 2):
        terms = []
        for j in (2 * step, 2 * step + 1):
            op, i = edges[j]
            if parse_op(op)[0] == "none" or states[i] is None:
                continue
            stride = 2 if cell["reduction"] and i < 2 and not args.is_vit else 1
            c_in = cell["c_in"] if i <= 1 else c_out
            terms.append(_emit_op(e, f"_ops.{j}", op, c_in, c_out, stride, norm, states[i]))
        states.append(None if not terms else terms[0] if len(terms) == 1 else e.merge("sum", terms))
    chosen = [states[i] for i in concat]
    if all(s is None for s in chosen):
        return None
    return e.merge("concat", [s or NONE for s in chosen])
