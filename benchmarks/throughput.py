"""Training and inference throughput of the TART recipe (`python -m benchmarks throughput`).

Two setups on the same tokens, device and batch size: the pipeline's model (scaled-dot-product attention with the
edge bias, length-bucketed batches, optional bf16 autocast) and a straightforward `nn.TransformerEncoder` of the
same width and depth on randomly drawn batches padded to the longest net, in fp32. FLOPs are counted by PyTorch's
FlopCounterMode over the very batches that are timed, so the fraction of peak is achieved FLOP/s over the
device's dense bf16 peak (datasheet values below; none for CPUs).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import peak_tflops, share_of_peak, train_steps
from tart.core.params import Params
from tart.models.transformer import TartConfig, TartModel
from tart.tokens.token_set import TokenSet, load_tokens
from tart.training.loop import pick_device
from tart.training.train import length_bucketed_batches, model_config


class PlainEncoder(nn.Module):
    """The straightforward version: summed token embeddings + learned positions -> nn.TransformerEncoder ->
    masked mean -> linear head."""

    def __init__(self, cfg: TartConfig) -> None:
        super().__init__()
        self.embed = nn.ModuleList(nn.Embedding(v, cfg.d_model, padding_idx=0) for v in cfg.vocab_sizes)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        layer = nn.TransformerEncoderLayer(cfg.d_model, cfg.n_heads, cfg.d_ff, cfg.dropout, batch_first=True,
                                           norm_first=True)  # fmt: skip
        self.encoder = nn.TransformerEncoder(layer, cfg.n_layers, enable_nested_tensor=False)
        self.head = nn.Linear(cfg.d_model, cfg.n_outputs)

    def forward(self, ids: torch.Tensor, graph: torch.Tensor | None = None) -> torch.Tensor:
        pad = ids[..., 0] == 0
        x = sum(embed(ids[..., c]) for c, embed in enumerate(self.embed))
        x = self.encoder(x + self.pos.weight[: ids.shape[1]][None], src_key_padding_mask=pad)
        return self.head(x.masked_fill(pad.unsqueeze(-1), 0.0).sum(1) / (~pad).sum(1, keepdim=True))


def _measure(model: nn.Module, ts: TokenSet, batches: list[np.ndarray], device: torch.device, precision: str,
             warmup: int, width: int | None) -> dict:  # fmt: skip
    train_steps(model, ts, batches[:warmup], device, precision, width)
    timed = batches[warmup:]
    seconds = train_steps(model, ts, timed, device, precision, width)
    with FlopCounterMode(display=False) as counter:  # the same batches again, counted rather than timed
        train_steps(model, ts, timed, device, precision, width)
    graphs = sum(len(b) for b in timed)
    return {"graphs": graphs, "seconds": round(seconds, 3), "graphs_per_second": round(graphs / seconds, 1),
            "graphs_per_minute": round(60 * graphs / seconds), "flops_per_graph": counter.get_total_flops() / graphs,
            "tflops_per_second": counter.get_total_flops() / seconds / 1e12}  # fmt: skip


def throughput_benchmark(p: Params, device_choice: str, precision: str, batch_size: int, steps: int,
                         warmup: int = 5) -> dict:  # fmt: skip
    cfg = p.train
    torch.set_num_threads(cfg.threads)
    device = pick_device(device_choice)
    ts = load_tokens(p.paths.tokens, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)
    ts_device = ts.to(device)
    mcfg = model_config(cfg, ts)
    gen = torch.Generator().manual_seed(0)
    bucketed = length_bucketed_batches(ts.lengths.numpy(), batch_size, gen)
    random = list(torch.randperm(len(ts.nets), generator=gen).split(batch_size))
    n = min(warmup + steps, len(bucketed))
    torch.manual_seed(0)
    setups = {
        "tart": _measure(TartModel(mcfg).to(device), ts_device, bucketed[:n], device, precision, warmup, None),
        "plain_transformer_encoder": _measure(
            PlainEncoder(mcfg).to(device),
            ts_device,
            [b.numpy() for b in random[:n]],
            device,
            "fp32",
            warmup,
            int(ts.lengths.max()),
        ),  # fmt: skip
    }
    name, peak = peak_tflops(device)
    for result in setups.values():
        result["fraction_of_peak_bf16"] = None if peak is None else result["tflops_per_second"] / peak
    return {
        "device": name, "peak_bf16_tflops": peak, "precision": precision, "batch_size": batch_size,
        "timed_steps": n - warmup, "threads": cfg.threads, "torch": torch.__version__,
        "model": {k: getattr(cfg, k) for k in ("d_model", "n_layers", "n_heads", "d_ff", "channels", "attention_bias",
                                                 "graph_pe")},
        "setups": setups,
        "speedup_vs_plain": setups["tart"]["graphs_per_second"]
        / setups["plain_transformer_encoder"]["graphs_per_second"],
    }  # fmt: skip


def throughput_markdown(result: dict) -> str:
    peak = result["peak_bf16_tflops"]
    lines = [
        f"Training throughput on {result['device']} ({result['threads']} threads where CPU), batch "
        f"{result['batch_size']}, {result['timed_steps']} timed steps after warm-up, torch {result['torch']}"
        + (f"; peak bf16 {peak} TFLOP/s." if peak else "; no peak figure for a CPU."),
        "",
        "| setup | precision | graphs/s | graphs/min | GFLOP per graph (fwd+bwd) | achieved TFLOP/s | of bf16 peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in result["setups"].items():
        precision = result["precision"] if name == "tart" else "fp32"
        share = share_of_peak(r["fraction_of_peak_bf16"])
        lines.append(f"| {name} | {precision} | {r['graphs_per_second']:,.0f} | {r['graphs_per_minute']:,} | "
                     f"{r['flops_per_graph'] / 1e9:.3f} | {r['tflops_per_second']:.3f} | {share} |")  # fmt: skip
    lines.append("")
    lines.append(f"TART setup / plain encoder: {result['speedup_vs_plain']:.2f}x graphs per second.")
    return "\n".join(lines)
