"""The DeepNets-1M operation set as PyTorch modules, with the parameter names the dataset's files record.

Names matter: `unique_op_names` in the published meta holds names such as `_ops.0.op.1.weight` or
`preprocess0.conv_1.weight`, so the attribute names and `nn.Sequential` positions below follow them. Every module is
traceable by `torch.fx` with symbolic shapes: the two parameter-free steps that DeepNets-1M records as nodes
(attention and channel re-weighting) are small leaf modules that the graph builder maps to `msa` and `cse`.
"""

from __future__ import annotations

import re

import torch
import torch.nn.functional as F
from torch import nn

OP_KINDS = ("none", "skip_connect", "avg_pool", "max_pool", "conv", "conv2", "sep_conv", "dil_conv", "msa", "cse")
KERNEL_RE = re.compile(r"^(\d+)x(\d+)$")


class OpNameError(ValueError):
    """An operation name that is not in the DeepNets-1M / DARTS op set."""


def parse_op(name: str) -> tuple[str, int]:
    """`sep_conv_3x3` -> ("sep_conv", 3); `conv_7x1_1x7` -> ("conv2", 7) (1xK then Kx1); `msa` -> ("msa", 0)."""
    words, sizes = [], []
    for part in name.split("_"):
        match = KERNEL_RE.match(part)
        if match:
            sizes.append(max(int(match.group(1)), int(match.group(2))))
        else:
            words.append(part)
    kind = "_".join(words) + ("2" if len(sizes) > 1 else "")
    if kind not in OP_KINDS:
        raise OpNameError(f"operation {name!r}: expected one of {OP_KINDS} with an optional KxK kernel size")
    return kind, max(sizes, default=0)


def norm_layer(norm: str | None, channels: int) -> nn.Module:
    """`bnorm` (or any name starting with `bn`) -> BatchNorm2d; None -> no normalisation."""
    if norm in (None, "", "none"):
        return nn.Identity()
    if norm.startswith("bn"):
        return nn.BatchNorm2d(channels)
    raise OpNameError(f"norm {norm!r}: expected 'bnorm' or null")


class ReLUConvBN(nn.Module):
    """ReLU, one KxK conv (or a 1xK then Kx1 pair when `double`), normalisation."""

    def __init__(self, c_in: int, c_out: int, ks: int, stride: int, norm: str | None, double: bool = False) -> None:
        super().__init__()
        pad = ks // 2
        if double:
            convs = [
                nn.Conv2d(c_in, c_in, (1, ks), stride=(1, stride), padding=(0, pad), bias=False),
                nn.Conv2d(c_in, c_out, (ks, 1), stride=(stride, 1), padding=(pad, 0), bias=False),
            ]
        else:
            convs = [nn.Conv2d(c_in, c_out, ks, stride=stride, padding=pad, bias=False)]
        self.op = nn.Sequential(nn.ReLU(), *convs, norm_layer(norm, c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Two rounds of ReLU, depthwise KxK, pointwise 1x1, normalisation (the first one carries the stride)."""

    def __init__(self, c_in: int, c_out: int, ks: int, stride: int, norm: str | None) -> None:
        super().__init__()
        pad = ks // 2
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c_in, c_in, ks, stride=stride, padding=pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_in, 1, bias=False),
            norm_layer(norm, c_in),
            nn.ReLU(),
            nn.Conv2d(c_in, c_in, ks, padding=pad, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            norm_layer(norm, c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU, depthwise KxK with dilation 2, pointwise 1x1, normalisation."""

    def __init__(self, c_in: int, c_out: int, ks: int, stride: int, norm: str | None) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(),
            nn.Conv2d(c_in, c_in, ks, stride=stride, padding=ks - ks % 2, dilation=2, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            norm_layer(norm, c_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Halve the resolution with two 1x1 stride-2 convs on pixel grids offset by one, concatenated."""

    def __init__(self, c_in: int, c_out: int, norm: str | None) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.relu = nn.ReLU()
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = norm_layer(norm, c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class Subsample(nn.Module):
    """Keep every `stride`-th pixel (a parameter-free reduction)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, :: self.stride, :: self.stride]


class SelfAttention(nn.Module):
    """Multi-head softmax attention on a (B, H, W, 3 * inner) q/k/v tensor: DeepNets-1M's `msa` node."""

    def __init__(self, heads: int) -> None:
        super().__init__()
        self.heads = heads

    def forward(self, qkv: torch.Tensor) -> torch.Tensor:
        b, h, w, three_inner = qkv.shape
        inner = three_inner // 3
        # (B, H, W, 3 * inner) -> 3 x (B, heads, H*W, inner / heads)
        q, k, v = qkv.reshape(b, h * w, 3, self.heads, inner // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return out.transpose(1, 2).reshape(b, h, w, inner)


class Transformer(nn.Module):
    """Pre-norm transformer block over the pixels of a feature map: LN, attention, residual, LN, MLP, residual."""

    def __init__(self, dim: int, dim_out: int, heads: int = 8) -> None:
        super().__init__()
        if dim != dim_out:
            raise ValueError(f"msa needs equal input and output channels, got {dim} -> {dim_out}")
        inner = (dim // heads) * heads
        self.ln1 = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, inner * 3, bias=False)
        self.attend = SelfAttention(heads)
        self.to_out = nn.Sequential(nn.Linear(inner, dim_out), nn.Dropout(0.0))
        self.ln2 = nn.LayerNorm(dim_out)
        self.ff = FeedForward(dim, dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.permute(0, 2, 3, 1)  # (B, C, H, W) -> (B, H, W, C): Linear/LayerNorm act on channels
        out = self.to_out(self.attend(self.to_qkv(self.ln1(tokens)))) + tokens
        out = self.ff(self.ln2(out)) + out
        return out.permute(0, 3, 1, 2)


class FeedForward(nn.Module):
    """Linear, GELU, Linear (positions 0 and 3 as in the dataset's names)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(0.0), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ChannelMean(nn.Module):
    """(B, C, H, W) -> (B, C). Not a node in DeepNets-1M graphs (the builder treats it as glue)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


class ChannelScale(nn.Module):
    """x * gate per channel: DeepNets-1M's `cse` node, fed by the feature map and the gate."""

    def forward(self, x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        return x * gate[:, :, None, None]


class ChannelSE(nn.Module):
    """Channel squeeze-excitation: mean over pixels, Linear C -> C/2, ReLU, Linear C/2 -> C, hard-swish, rescale."""

    def __init__(self, dim: int, dim_out: int, stride: int) -> None:
        super().__init__()
        if dim != dim_out:
            raise ValueError(f"cse needs equal input and output channels, got {dim} -> {dim_out}")
        self.squeeze = ChannelMean()
        self.fc1 = nn.Linear(dim, dim // 2)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(dim // 2, dim)
        self.gate = nn.Hardswish()
        self.scale = ChannelScale()
        self.subsample = Subsample(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.gate(self.fc2(self.relu(self.fc1(self.squeeze(x)))))
        return self.subsample(self.scale(x, gate))


class PosEnc(nn.Module):
    """A learned positional encoding added to the stem's feature map."""

    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight


# The builder's view of the leaf modules above: a primitive, or None for glue.
GRAPH_PRIMITIVES: dict[type[nn.Module], str | None] = {
    SelfAttention: "msa",
    ChannelScale: "cse",
    ChannelMean: None,
    Subsample: None,
}


def make_op(name: str, c_in: int, c_out: int, stride: int, norm: str | None) -> nn.Module | None:
    """The module for one cell edge; None for the `none` op (the edge carries nothing)."""
    kind, ks = parse_op(name)
    if kind == "none":
        return None
    if kind == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(c_in, c_out, norm)
    if kind in ("avg_pool", "max_pool"):
        if kind == "avg_pool":
            return nn.AvgPool2d(ks, stride=stride, padding=ks // 2, count_include_pad=False)
        return nn.MaxPool2d(ks, stride=stride, padding=ks // 2)
    if kind in ("conv", "conv2"):
        return ReLUConvBN(c_in, c_out, ks, stride, norm, double=kind == "conv2")
    if kind == "sep_conv":
        return SepConv(c_in, c_out, ks, stride, norm)
    if kind == "dil_conv":
        return DilConv(c_in, c_out, ks, stride, norm)
    if kind == "msa":
        if stride != 1:
            raise ValueError("msa cannot reduce resolution (nets with msa have no strided cells)")
        return Transformer(c_in, c_out)
    return ChannelSE(c_in, c_out, stride)
