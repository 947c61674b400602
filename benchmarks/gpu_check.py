"""The GPU check: two benchmarks sized for one H100/H200, each meant to finish within 8 minutes
(`scripts/gpu_check.sh` runs the first after the gpu-marked tests; `scripts/gpu_narformer.sh` the second).

- `gpu-train`: training throughput of the TART recipe scaled up to d_model 256, 12 layers, 16 heads (d_ff 1024) in
  bf16 on the pipeline's NB201 tokens, on length-bucketed batches with scaled-dot-product attention, once eager and
  once under `torch.compile` (dynamic shapes: batch widths vary with the bucket). FLOPs are counted on the eager
  model over the timed batches (FlopCounterMode does not see inside compiled kernels); the compiled setup does the
  same arithmetic, so its TFLOP/s is that count over its own time.
- `gpu-narformer`: the published NAR-Former recipe (width 192, 6 encoder blocks then fusion stages of 4, 2 and 1
  queries, 4000 epochs, batch 128, AdamW lr 1e-4, unit target) at 5% and 10% of NB201 for one seed, scored like the
  narformer stage (Kendall tau-b over all nets).

`dry` as the argument shrinks both to seconds on a CPU: the tests run it, and it rehearses the commands before a GPU
call, so the first GPU produces every number in one go.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.common import peak_tflops, share_of_peak, train_steps
from tart.core.params import Params
from tart.models.transformer import TartModel
from tart.tokens.token_set import load_tokens
from tart.training.loop import pick_device
from tart.training.narformer import narformer_from_files
from tart.training.train import length_bucketed_batches, model_config

ANCHOR_GRAPHS_PER_MINUTE = 150_000  # a plain nn.TransformerEncoder TART recipe on an H100 (2% of bf16 peak)
TARGET_GRAPHS_PER_MINUTE = 1_000_000
SIZES = {
    # model, batch, warm-up and timed steps; the dry size runs on a CPU in seconds
    "full": {"model": {"d_model": 256, "n_layers": 12, "n_heads": 16, "d_ff": 1024}, "batch": 1024, "warmup": 10,
             "steps": 100, "precision": "bf16"},
    "dry": {"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32}, "batch": 16, "warmup": 1, "steps": 2,
            "precision": "fp32"},
}  # fmt: skip
NARFORMER = {
    "full": {"n_freq": 32, "n_layers": 6, "n_heads": 6, "d_ff": 768, "dropout": 0.1, "epochs": 4000, "batch_size": 128,
             "lr": 1e-4, "weight_decay": 0.01, "warmup": 0.1, "ema": 0.99, "rank_weight": 0.1,
             "consistency_weight": 0.5, "target_transform": "unit", "eval_every": 50, "train_sizes": [781, 1563]},
    "dry": {"n_freq": 4, "n_layers": 1, "n_heads": 2, "d_ff": 16, "epochs": 2, "batch_size": 16, "eval_every": 1,
            "train_sizes": [20, 40]},
}  # fmt: skip


def _size(argv: list[str]) -> str:
    size = argv[0] if argv else "full"
    if size not in SIZES:
        raise SystemExit(f"expected `full` or `dry`, got {size!r}")
    return size


def _timed(model: torch.nn.Module, ts, batches, device, precision: str, warmup: int) -> tuple[float, float]:
    """(warm-up seconds, timed seconds): compilation happens during the warm-up."""
    start = time.perf_counter()
    train_steps(model, ts, batches[:warmup], device, precision)
    warm = time.perf_counter() - start
    return warm, train_steps(model, ts, batches[warmup:], device, precision)


def gpu_train_benchmark(p: Params, size: str) -> dict:
    spec = SIZES[size]
    device = pick_device("cpu" if size == "dry" else "cuda")
    cfg = p.train.model_copy(update={**spec["model"], "precision": spec["precision"]})
    ts = load_tokens(p.paths.tokens, tuple(cfg.channels), cfg.graph_pe, cfg.pe_dim)
    mcfg = model_config(cfg, ts)
    batches = length_bucketed_batches(ts.lengths.numpy(), spec["batch"], torch.Generator().manual_seed(0))
    needed = spec["warmup"] + spec["steps"]
    batches = (batches * (needed // len(batches) + 1))[:needed]  # more steps than an epoch: cycle the epoch
    timed = batches[spec["warmup"] :]
    graphs = sum(len(b) for b in timed)
    ts_device = ts.to(device)
    torch.manual_seed(0)
    eager = TartModel(mcfg).to(device)
    with FlopCounterMode(display=False) as counter:
        train_steps(eager, ts_device, timed, device, spec["precision"])
    flops_per_graph = counter.get_total_flops() / graphs
    name, peak = peak_tflops(device)
    setups = {}
    for setup in ("eager", "compiled"):
        torch.manual_seed(0)
        model = TartModel(mcfg).to(device)
        if setup == "compiled":
            model = torch.compile(model, dynamic=True)
        warm, seconds = _timed(model, ts_device, batches, device, spec["precision"], spec["warmup"])
        tflops = flops_per_graph * graphs / seconds / 1e12
        setups[setup] = {"warmup_seconds": round(warm, 2), "seconds": round(seconds, 3),
                         "graphs_per_second": round(graphs / seconds, 1),
                         "graphs_per_minute": round(60 * graphs / seconds), "tflops_per_second": tflops,
                         "fraction_of_peak_bf16": None if peak is None else tflops / peak}  # fmt: skip
    best = max(setups, key=lambda s: setups[s]["graphs_per_second"])
    return {
        "size": size, "device": name, "peak_bf16_tflops": peak, "torch": torch.__version__,
        "model": spec["model"], "precision": spec["precision"], "batch_size": spec["batch"],
        "timed_steps": spec["steps"], "graphs_timed": graphs, "flops_per_graph": flops_per_graph,
        "setups": setups, "best": best,
        "anchor_graphs_per_minute": ANCHOR_GRAPHS_PER_MINUTE, "target_graphs_per_minute": TARGET_GRAPHS_PER_MINUTE,
    }  # fmt: skip


def gpu_train_markdown(result: dict) -> str:
    peak = result["peak_bf16_tflops"]
    model = result["model"]
    lines = [
        f"TART recipe at d_model {model['d_model']}, {model['n_layers']} layers, {model['n_heads']} heads, d_ff "
        f"{model['d_ff']}, {result['precision']}, batch {result['batch_size']}, {result['timed_steps']} timed steps on "
        f"{result['device']} (torch {result['torch']}"
        + (f", dense bf16 peak {peak} TFLOP/s)." if peak else ", no peak figure for this device)."),
        "",
        "| setup | warm-up s | graphs/s | graphs/min | achieved TFLOP/s | of bf16 peak |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in result["setups"].items():
        share = share_of_peak(r["fraction_of_peak_bf16"])
        lines.append(f"| {name} | {r['warmup_seconds']:.1f} | {r['graphs_per_second']:,.0f} | "
                     f"{r['graphs_per_minute']:,} | {r['tflops_per_second']:.3f} | {share} |")  # fmt: skip
    best = result["setups"][result["best"]]["graphs_per_minute"]
    lines += ["", f"Best: {result['best']}, {best:,} graphs/min; anchor {result['anchor_graphs_per_minute']:,} "
                  f"(plain nn.TransformerEncoder on an H100), aim {result['target_graphs_per_minute']:,}."]  # fmt: skip
    if result["size"] == "dry":
        lines += ["", "A dry run (tiny model on a CPU): it checks the commands, not the device."]
    return "\n".join(lines)


def gpu_narformer_benchmark(p: Params, size: str) -> dict:
    recipe = NARFORMER[size]
    device = "cpu" if size == "dry" else "cuda"
    section = p.narformer.model_copy(update={**recipe, "seeds": [0], "cell_inputs": ["raw"], "device": device,
                                             "workers": 1, "threads": p.narformer.threads})  # fmt: skip
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        report = narformer_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, section,
                                      p.split.val_size, Path(tmp) / "narformer.json", print)  # fmt: skip
    runs = [{k: r[k] for k in ("n_train", "seed", "kendall_tau_b", "fit_seconds", "best_epoch", "device")}
            for r in report["runs"]]  # fmt: skip
    return {"size": size, "recipe": json.loads(json.dumps(recipe)), "runs": runs,
            "seconds": round(time.perf_counter() - start, 1), "torch": torch.__version__,
            "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu"}  # fmt: skip


def gpu_narformer_markdown(result: dict) -> str:
    recipe = result["recipe"]
    lines = [
        f"NAR-Former recipe ({recipe['epochs']} epochs, batch {recipe['batch_size']}, token width "
        f"{6 * recipe['n_freq']}, {recipe['n_layers']} encoder blocks) on {result['device']}, one seed, "
        f"{result['seconds']:.0f} s in all.",
        "",
        "| training nets | Kendall tau-b (all nets) | best epoch | fit seconds |",
        "|---|---|---|---|",
    ]
    lines += [f"| {r['n_train']} | {r['kendall_tau_b']:.4f} | {r['best_epoch']} | {r['fit_seconds']:.0f} |"
              for r in result["runs"]]  # fmt: skip
    if result["size"] == "dry":
        lines += ["", "A dry run (tiny recipe on a CPU): it checks the commands, not the device."]
    return "\n".join(lines)
