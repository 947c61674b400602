import pytest
import torch
from torch import nn

from tart.graphs.from_module import GraphBuildError, module_to_graph


def summary(g):
    return g.primitive_names(), sorted(g.edges)


def test_conv_bn():
    g = module_to_graph(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU()), (3, 8, 8))
    assert summary(g) == (["input", "conv", "bias", "bn"], [(0, 1), (1, 2), (2, 3)])
    assert g.shapes == [(), (8, 3, 3, 3), (8,), (8,)]
    assert g.names == ["input", "0.weight", "0.bias", "1.weight"]


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + self.down(x))


def test_resnet_basic_block():
    g = module_to_graph(BasicBlock(4, 8), (4, 16, 16))
    assert summary(g) == (
        ["input", "conv", "bn", "conv", "bn", "conv", "bn", "sum"],
        [(0, 1), (0, 5), (1, 2), (2, 3), (3, 4), (4, 7), (5, 6), (6, 7)],
    )
    assert g.shapes[5] == (8, 4, 1, 1)
    assert g.outputs == frozenset({7})


def test_depthwise_separable_and_dilated_convs():
    """DeepNets-1M's rule: grouped -> sep_conv, grouped and dilated -> dil_conv, a dense dilated conv -> conv."""
    net = nn.Sequential(
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
        nn.Conv2d(8, 16, 1, bias=False),
        nn.BatchNorm2d(16),
        nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=16, bias=False),
        nn.Conv2d(16, 16, 3, padding=2, dilation=2, bias=False),
    )
    g = module_to_graph(net, (8, 8, 8))
    assert summary(g) == (
        ["input", "sep_conv", "conv", "bn", "dil_conv", "conv"],
        [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)],
    )
    assert g.shapes[1] == (8, 1, 3, 3)


class TinyAttention(nn.Module):
    def __init__(self, dim: int = 16) -> None:
        super().__init__()
        self.pos = nn.Parameter(torch.zeros(1, 4, dim))
        self.ln = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, 2, batch_first=True)
        self.fc = nn.Linear(dim, 10)

    def forward(self, x):
        x = x + self.pos
        h = self.ln(x)
        x = x + self.attn(h, h, h)[0]
        return self.fc(x.mean(1))


def test_tiny_self_attention_block():
    g = module_to_graph(TinyAttention(), (4, 16))
    assert summary(g) == (
        ["input", "pos_enc", "sum", "ln", "msa", "sum", "glob_avg", "conv", "bias"],
        [(0, 2), (1, 2), (2, 3), (2, 5), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8)],
    )
    assert g.shapes[4] == (48, 16)


def test_topological_order_and_cells():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.cells = nn.ModuleList([nn.Conv2d(3, 3, 1), nn.Conv2d(3, 3, 1)])
            self.pool = nn.MaxPool2d(2)

        def forward(self, x):
            return self.pool(torch.cat([self.cells[0](x), self.cells[1](x)], 1))

    g = module_to_graph(Net(), (3, 4, 4))
    assert g.primitive_names() == ["input", "conv", "bias", "conv", "bias", "concat", "max_pool"]
    assert g.cells == [0, 0, 0, 1, 1, 1, 1]
    assert all(a < b for a, b in g.edges)


def test_unknown_module_is_a_clear_error():
    class Odd(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(GraphBuildError, match="'embedding'"):
        module_to_graph(nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2)))
    with pytest.raises(GraphBuildError, match="no DeepNets-1M primitive"):
        module_to_graph(nn.Sequential(nn.Conv2d(3, 3, 1), nn.PixelShuffle(1)))
    assert module_to_graph(Odd()).primitive_names() == ["input"]


def test_wrong_input_shape_is_a_clear_error():
    with pytest.raises(GraphBuildError, match=r"input of shape \(batch, 5, 8, 8\)"):
        module_to_graph(nn.Conv2d(3, 4, 3), (5, 8, 8))


def test_custom_primitive_names_are_checked():
    with pytest.raises(GraphBuildError, match="not one of the 15"):
        module_to_graph(nn.Conv2d(3, 3, 1), custom_primitives={nn.Conv2d: "transformer"})
