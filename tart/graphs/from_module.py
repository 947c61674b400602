"""Convert any `torch.nn.Module` into a DeepNets-1M-style computational graph with `torch.fx`.

Why torch.fx: symbolic tracing sees the module hierarchy (so a node knows its parameter name and cell), follows
Python control flow once, needs no real data, and lists operations in execution order, which is a topological
order. Rules, following DeepNets-1M:
- every parameterised layer is a node (conv/linear weight -> `conv`; a grouped conv -> `sep_conv`, or `dil_conv` when
  dilated;
  its bias -> a `bias` node after it; BatchNorm -> `bn`; LayerNorm/GroupNorm -> `ln`; MultiheadAttention -> `msa`);
- parameter-free ops that DeepNets-1M names are nodes (pooling, global average pooling, sum of two or more tensors,
  concatenation); a parameter used directly in `forward` is a `pos_enc` node;
- activations, dropout, reshapes and other glue are skipped: edges pass through them;
- a zero tensor (`torch.zeros_like`, NAS-Bench-201's `none` op) carries no edges.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import fx, nn

from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID


class GraphBuildError(ValueError):
    """The module cannot be expressed with the 15 DeepNets-1M primitives."""


PASS_THROUGH_MODULES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.LeakyReLU,
    nn.ELU, nn.Softmax, nn.Dropout, nn.Dropout2d, nn.Identity, nn.Flatten, nn.Unflatten,
)  # fmt: skip
POOL_MODULES: dict[type[nn.Module], str] = {
    nn.MaxPool1d: "max_pool", nn.MaxPool2d: "max_pool", nn.MaxPool3d: "max_pool",
    nn.AvgPool1d: "avg_pool", nn.AvgPool2d: "avg_pool", nn.AvgPool3d: "avg_pool",
}  # fmt: skip
CONV_MODULES = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
BN_MODULES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
LN_MODULES = (nn.LayerNorm, nn.GroupNorm)
LEAF_MODULES = (*PASS_THROUGH_MODULES, *POOL_MODULES, *CONV_MODULES, *BN_MODULES, *LN_MODULES,
                nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.MultiheadAttention)  # fmt: skip

SUM_FUNCTIONS = {operator.add, operator.iadd, torch.add}
CONCAT_FUNCTIONS = {torch.cat, torch.concat, torch.stack}
ZERO_FUNCTIONS = {torch.zeros_like, torch.zeros, "zero_", "new_zeros"}
GLOBAL_POOL_FUNCTIONS = {"mean", torch.mean, F.adaptive_avg_pool2d, F.adaptive_avg_pool1d}
POOL_FUNCTIONS = {F.max_pool2d: "max_pool", F.avg_pool2d: "avg_pool", F.max_pool1d: "max_pool"}
PASS_THROUGH_FUNCTIONS = {
    F.relu, F.relu6, F.gelu, F.silu, F.sigmoid, F.tanh, F.softmax, F.dropout, F.pad, F.interpolate, torch.relu,
    torch.sigmoid, torch.tanh, torch.flatten, torch.reshape, torch.transpose, torch.permute, torch.matmul,
    torch.bmm, torch.mul, torch.softmax, torch.squeeze, torch.unsqueeze, torch.chunk, torch.split,
    operator.getitem, operator.mul, operator.truediv, operator.sub, operator.neg, operator.matmul, getattr,
    "relu", "relu_", "sigmoid", "tanh", "softmax", "flatten", "view", "reshape", "permute", "transpose",
    "contiguous", "size", "chunk", "split", "squeeze", "unsqueeze", "expand", "expand_as", "mul", "mul_",
    "div", "matmul", "sub", "neg", "clone", "float", "type_as", "to", "dim",
}  # fmt: skip

DEFAULT_CELL_PATTERN = r"(?:^|\.)cells\.(\d+)(?:\.|$)"


class _LeafTracer(fx.Tracer):
    def __init__(self, extra_leaves: tuple[type[nn.Module], ...]) -> None:
        super().__init__()
        self.leaves = (*LEAF_MODULES, *extra_leaves)

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return isinstance(m, self.leaves)


def _conv_primitive(module: nn.Module) -> str:
    """DeepNets-1M's rule: a grouped conv is `dil_conv` when dilated, else `sep_conv`; any other is `conv`."""
    if isinstance(module, nn.Linear) or module.groups == 1:
        return "conv"
    return "dil_conv" if any(d > 1 for d in module.dilation) else "sep_conv"


def _shape(t: torch.Tensor | None) -> tuple[int, ...]:
    return tuple(t.shape) if t is not None else ()


def trace(module: nn.Module, extra_leaves: tuple[type[nn.Module], ...] = ()) -> fx.Graph:
    """Symbolically trace `module`, stopping at layers the builder knows (no GraphModule: no code generation)."""
    tracer = _LeafTracer(extra_leaves)
    try:
        return tracer.trace(module)
    except Exception as exc:  # fx raises many types; one clear message is what the user needs
        raise GraphBuildError(f"torch.fx could not trace {type(module).__name__}: {exc}") from exc


def check_input_shape(module: nn.Module, input_shape: Sequence[int]) -> None:
    """Run one shape-only forward pass on an input of shape (1, *input_shape) to reject a wrong shape early."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    try:
        with torch.no_grad():
            if device.type == "meta":
                module(torch.empty(1, *input_shape, device="meta"))
            else:
                with FakeTensorMode(allow_non_fake_inputs=True) as mode:
                    module(mode.from_tensor(torch.empty(1, *input_shape, device=device)))
    except Exception as exc:  # the user's forward failed: say what it raised, without guessing why
        shape = ", ".join(map(str, input_shape))
        raise GraphBuildError(
            f"{type(module).__name__}.forward raised {type(exc).__name__} on an input of shape (batch, {shape}): {exc}"
        ) from exc


def module_to_graph(
    module: nn.Module,
    input_shape: Sequence[int] | None = None,
    *,
    cell_pattern: str = DEFAULT_CELL_PATTERN,
    custom_primitives: dict[type[nn.Module], str | None] | None = None,
) -> ArchGraph:
    """Build the DeepNets-1M-style graph of `module`.

    `input_shape` (without batch) is checked with a shape-only forward pass when given. `custom_primitives` maps
    extra module classes to one primitive node each (e.g. a squeeze-excitation block -> "cse"), or to None: glue
    that edges pass through (e.g. a channel mean that DeepNets-1M does not count as a node).
    """
    custom = custom_primitives or {}
    for name in custom.values():
        if name is not None and name not in PRIMITIVE_ID:
            raise GraphBuildError(f"custom primitive {name!r} is not one of the 15 DeepNets-1M primitives")
    if input_shape is not None:
        check_input_shape(module, input_shape)
    graph = trace(module, tuple(custom))
    return _Converter(module, graph, re.compile(cell_pattern), custom).run()


class _Converter:
    def __init__(
        self,
        root: nn.Module,
        fx_graph: fx.Graph,
        cell_re: re.Pattern[str],
        custom: dict[type[nn.Module], str | None],
    ) -> None:
        self.root, self.fx_graph = root, fx_graph
        self.cell_re = cell_re
        self.custom = custom
        self.graph = ArchGraph()
        self.sources: dict[fx.Node, frozenset[int]] = {}
        self.cell = 0

    def run(self) -> ArchGraph:
        for node in self.fx_graph.nodes:
            if node.op == "output":
                self.graph.outputs = self._union(node)
                continue
            self._update_cell(node)
            self.sources[node] = self._convert(node)
        return self.graph

    def _update_cell(self, node: fx.Node) -> None:
        paths = [node.target] if node.op in ("call_module", "get_attr") else []
        paths += list(node.meta.get("nn_module_stack", {}))
        for path in paths:
            match = self.cell_re.search(str(path))
            if match:
                self.cell = int(match.group(1))
                return

    def _inputs(self, node: fx.Node) -> list[frozenset[int]]:
        found: list[frozenset[int]] = []
        fx.node.map_arg((node.args, node.kwargs), lambda n: found.append(self.sources[n]) or n)
        return found

    def _union(self, node: fx.Node) -> frozenset[int]:
        return frozenset().union(*self._inputs(node))

    def _new(self, primitive: str, name: str, shape: tuple[int, ...], sources: frozenset[int]) -> frozenset[int]:
        return frozenset({self.graph.add_node(PRIMITIVE_ID[primitive], self.cell, name, shape, list(sources))})

    def _merge(self, node: fx.Node, primitive: str) -> frozenset[int]:
        """A sum/concat node only where two or more inputs carry edges; otherwise the op is glue."""
        inputs = [s for s in self._inputs(node) if s]
        if len(inputs) < 2:
            return frozenset().union(*inputs)
        return self._new(primitive, primitive, (), frozenset().union(*inputs))

    def _convert(self, node: fx.Node) -> frozenset[int]:
        if node.op == "placeholder":
            return self._new("input", "input", (), frozenset())
        if node.op == "get_attr":
            attr = self.root.get_parameter(node.target) if isinstance(node.target, str) else None
            return self._new("pos_enc", node.target, _shape(attr), frozenset())
        if node.op == "call_module":
            return self._convert_module(node, self.root.get_submodule(node.target))
        return self._convert_function(node)

    def _convert_module(self, node: fx.Node, m: nn.Module) -> frozenset[int]:
        src = self._union(node)
        name = node.target
        if type(m) in self.custom:
            if self.custom[type(m)] is None:
                return src
            return self._new(self.custom[type(m)], name, _shape(next(m.parameters(), None)), src)
        if isinstance(m, PASS_THROUGH_MODULES):
            return src
        if isinstance(m, CONV_MODULES):
            out = self._new(_conv_primitive(m), f"{name}.weight", _shape(m.weight), src)
            return out if m.bias is None else self._new("bias", f"{name}.bias", _shape(m.bias), out)
        if isinstance(m, BN_MODULES):
            return self._new("bn", f"{name}.weight", _shape(m.weight) or (m.num_features,), src)
        if isinstance(m, LN_MODULES):
            return self._new("ln", f"{name}.weight", _shape(m.weight), src)
        if isinstance(m, nn.MultiheadAttention):
            return self._new("msa", f"{name}.in_proj_weight", _shape(m.in_proj_weight), src)
        if type(m) in POOL_MODULES:
            return self._new(POOL_MODULES[type(m)], POOL_MODULES[type(m)], (), src)
        if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
            size = m.output_size if isinstance(m.output_size, tuple) else (m.output_size,)
            primitive = "glob_avg" if all(s == 1 for s in size) else "avg_pool"
            return self._new(primitive, primitive, (), src)
        raise GraphBuildError(f"module {name!r} of type {type(m).__name__} has no DeepNets-1M primitive")

    def _convert_function(self, node: fx.Node) -> frozenset[int]:
        target = node.target
        if target in SUM_FUNCTIONS or target == "add":
            return self._merge(node, "sum")
        if target in CONCAT_FUNCTIONS:
            return self._merge(node, "concat")
        if target in ZERO_FUNCTIONS:
            return frozenset()
        if target in GLOBAL_POOL_FUNCTIONS:
            return self._new("glob_avg", "glob_avg", (), self._union(node))
        if target in POOL_FUNCTIONS:
            return self._new(POOL_FUNCTIONS[target], POOL_FUNCTIONS[target], (), self._union(node))
        if target in PASS_THROUGH_FUNCTIONS:
            return self._union(node)
        label = getattr(target, "__name__", str(target))
        raise GraphBuildError(f"operation {label!r} (fx node {node.name!r}) has no DeepNets-1M primitive")
