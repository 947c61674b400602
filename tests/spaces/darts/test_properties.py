import pytest
import torch

from tart.spaces.darts.network import DARTS_V2, Genotype, NetArgs
from tart.spaces.darts.properties import LatencyProtocol, count_flops, measure, measure_latency


def conv_flops(c_in: int, c_out: int, k: int, side: int) -> int:
    return 2 * c_in * k * k * c_out * side * side  # 2 per multiply-accumulate


def test_flops_of_the_smallest_net_by_hand():
    """Stem 3->8 3x3 conv at 32x32, a max-pool and a sum (0 FLOPs), global pooling, Linear 8->10."""
    g = Genotype((("skip_connect", 0), ("max_pool_3x3", 1)), (2,), (("skip_connect", 0), ("max_pool_3x3", 1)), (2,))
    args = NetArgs(g, n_cells=1, C=8, C_mult=1, preproc=False, norm=None)
    assert count_flops(args) == conv_flops(3, 8, 3, 32) + 2 * 8 * 10


def test_flops_of_a_preprocessed_conv_cell_by_hand():
    """Stem 3->24 (3C with pre-processing), two 1x1 pre-processing convs 24->8, conv_1x1 and conv_3x3 8->8."""
    g = Genotype((("conv_1x1", 0), ("conv_3x3", 1)), (2,), (("conv_1x1", 0), ("conv_3x3", 1)), (2,))
    args = NetArgs(g, n_cells=1, C=8, C_mult=1, preproc=True, norm="bnorm")
    expected = (conv_flops(3, 24, 3, 32) + 2 * conv_flops(24, 8, 1, 32) + conv_flops(8, 8, 1, 32)
                + conv_flops(8, 8, 3, 32) + 2 * 8 * 10)  # fmt: skip
    assert count_flops(args) == expected


def test_latency_follows_the_protocol_and_restores_threads():
    threads = torch.get_num_threads()
    ms = measure_latency(NetArgs(DARTS_V2, n_cells=3, C=8), LatencyProtocol(warmup=1, repeats=3, threads=1))
    assert ms > 0
    assert torch.get_num_threads() == threads


def test_measure_table():
    record = NetArgs(DARTS_V2, n_cells=3, C=8).to_record()
    table = measure([(7, record)], None)
    row = table.to_pylist()[0]
    assert row["net"] == 7 and row["params"] > 0 and row["flops"] > 0 and row["latency_ms"] is None


@pytest.mark.gpu
def test_cuda_latency():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    ms = measure_latency(NetArgs(DARTS_V2, n_cells=3, C=8), LatencyProtocol(device="cuda", warmup=2, repeats=5))
    assert ms > 0
