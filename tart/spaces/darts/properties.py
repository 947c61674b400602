"""Properties we measure ourselves for DARTS-style nets: parameters, FLOPs and inference latency.

They are real labels for generated nets (no training needed). FLOPs are PyTorch's `FlopCounterMode` count of one
forward pass at batch 1 on meta tensors (2 per multiply-accumulate; convolutions, linears and attention matmuls;
pooling, normalisation and activations count 0); tests check it against hand counts. Latency follows the protocol
in `params.yaml` (`properties.latency`): real weights in eval mode, `threads` intra-op threads, `warmup` untimed
passes, then the median of `repeats` timed passes of a batch of `batch_size`; CUDA timings synchronise first.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import torch
from torch.utils.flop_counter import FlopCounterMode
from tqdm import tqdm

from tart.spaces.darts.network import NetArgs, build_network, count_params

PROPERTIES = pa.schema(
    [("net", pa.int32()), ("params", pa.int64()), ("flops", pa.int64()), ("latency_ms", pa.float64())]
)


@dataclass(frozen=True)
class LatencyProtocol:
    batch_size: int = 1
    warmup: int = 5
    repeats: int = 20
    threads: int = 1
    device: str = "cpu"


def count_flops(args: NetArgs, input_size: int = 32) -> int:
    net = build_network(args, device="meta").eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.empty(1, 3, input_size, input_size, device="meta"))
    return int(counter.get_total_flops())


def measure_latency(args: NetArgs, protocol: LatencyProtocol, input_size: int = 32) -> float:
    """Median milliseconds per forward pass of a batch, as the protocol says."""
    device = torch.device(protocol.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("properties.latency.device is cuda but this machine has no CUDA device")
    threads = torch.get_num_threads()
    torch.set_num_threads(protocol.threads)
    try:
        net = build_network(args, device=str(device)).eval()
        x = torch.randn(protocol.batch_size, 3, input_size, input_size, device=device)
        times = []
        with torch.inference_mode():
            for k in range(protocol.warmup + protocol.repeats):
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                start = time.perf_counter()
                net(x)
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                if k >= protocol.warmup:
                    times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return float(np.median(times) * 1000)


def measure(records: Iterable[tuple[int, dict]], protocol: LatencyProtocol | None) -> pa.Table:
    """One row per (net index, net_args record); latency is left null when `protocol` is None."""
    rows = []
    for index, record in tqdm(list(records), desc="properties", unit="net"):
        args = NetArgs.from_record(record)
        rows.append({
            "net": index,
            "params": count_params(build_network(args)),
            "flops": count_flops(args),
            "latency_ms": measure_latency(args, protocol) if protocol is not None else None,
        })  # fmt: skip
    return pa.Table.from_pylist(rows, PROPERTIES)
