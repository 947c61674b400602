"""Benchmarks that print their figures and write JSON under `reports/benchmarks/` (never timed tests).

python -m tart.benchmarks build         # time the NB201 -> DeepNets-1M build of all 15,625 nets
python -m tart.benchmarks token-bound   # how much a token scheme can know: distinct sequences, oracle tau
python -m tart.benchmarks scale [NETS [UNIQUE]]  # generation rate; extract + tokenize 1M graphs (bench_scale)
python -m tart.benchmarks generator-stats [NETS]  # our generator vs the DeepNets-1M reference files (tart.gen_stats)
python -m tart.benchmarks darts-reference  # rebuild the reference files' nets: parameter counts, graph matches
python -m tart.benchmarks tokenization [N_TRAIN]  # TART tokenization variants on NB201 (default 781 training nets)
python -m tart.benchmarks throughput [DEVICE [PRECISION [BATCH [STEPS]]]]  # training graphs/s, fraction of peak
python -m tart.benchmarks pretraining [NETS [EPOCHS [SIZES]]]  # masked-node pretraining, fine-tuning (SIZES: 100,781)
python -m tart.benchmarks gbm-grid [SEEDS]  # how gbm_canonical's settings were picked (SEEDS: 0,1)
python -m tart.benchmarks label-mix [SEEDS]  # TART fit to the CIFAR-10 label mixed with CIFAR-100 (SEEDS: 0,1,2)
python -m tart.benchmarks canonical-order [SEEDS]  # TART on canonical-order tokens vs file order (SEEDS: 0,1,2)
python -m tart.benchmarks function-input [SEEDS]  # TART reading function-class representatives (SEEDS: 0,1,2)
python -m tart.benchmarks learning-curve [SIZES [SEEDS]]  # TART and gbm_canonical beyond 10% (3125,6250; seed 0)
python -m tart.benchmarks cell-workers [FITS [EPOCHS]]  # narformer / tgnas fits side by side vs serial
python -m tart.benchmarks screen [WORKERS]  # `tart screen` over all 15,625 NB201 nets, both input routes
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tart.isomorphism import GRAPH_COLUMNS, class_mean, function_classes, isomorphism_classes, token_graph
from tart.metrics import kendall_tau_b
from tart.provenance import cpu_model
from tart.report import replace_section

CHANNEL_SETS = {
    "primitive": ("tokens",),
    "primitive+shape": ("tokens", "shape_tokens"),
    "primitive+shape+offsets": ("tokens", "shape_tokens", "near_tokens", "far_tokens"),
}


def token_bound(tokens_dir: Path, labels: Path, train_label: str, test_label: str,
                graphs_dir: Path | None = None) -> dict:  # fmt: skip
    """For each channel set: the number of distinct sequences over all nets, and the Kendall tau-b (vs the test
    label) of an oracle that predicts, for every net, the mean training label of all nets with the same sequence.
    No model reading only those channels can rank better than that oracle, up to label noise. The same for the
    isomorphism classes of the token graphs and the NB201 function classes (tart.isomorphism), which the
    `tart_grid` stage's `_iso` and `_function` rows average over. With `graphs_dir` also how many nodes
    tokenization dropped (nodes that do not reach the output), against the graph shards."""
    table = pa.concat_tables(pq.read_table(s) for s in sorted(tokens_dir.glob("tokens-*.parquet")))
    label_table = pq.read_table(labels)
    by_net = dict(zip(label_table["net"].to_pylist(), zip(label_table[train_label].to_pylist(),
                                                          label_table[test_label].to_pylist(),
                                                          label_table["arch"].to_pylist())))  # fmt: skip
    nets = table["net"].to_pylist()
    y_train = np.array([by_net[n][0] for n in nets])
    y_test = np.array([by_net[n][1] for n in nets])
    result = {}
    for name, channels in CHANNEL_SETS.items():
        columns = [table[c].to_pylist() for c in channels]
        keys = [tuple(tuple(col[k]) for col in columns) for k in range(len(nets))]
        ids: dict[tuple, int] = {}
        classes = np.array([ids.setdefault(key, len(ids)) for key in keys])
        result[name] = class_oracle(classes, y_train, y_test, "distinct_sequences")
    graphs = [token_graph(row) for row in table.select(GRAPH_COLUMNS).to_pylist()]
    result["isomorphism_classes"] = class_oracle(isomorphism_classes(graphs), y_train, y_test)
    result["function_classes"] = class_oracle(function_classes([by_net[n][2] for n in nets]), y_train, y_test)
    result["label_itself"] = {"oracle_kendall_tau_b": kendall_tau_b(y_train, y_test)}
    if graphs_dir is not None:
        result["dead_nodes"] = dropped_nodes(graphs_dir, dict(zip(nets, table["length"].to_pylist())))
    return result


def class_oracle(classes: np.ndarray, y_train: np.ndarray, y_test: np.ndarray, count: str = "classes") -> dict:
    """The number of classes and the tau-b of predicting each net's class-mean training label."""
    oracle = class_mean(y_train, classes)
    return {count: int(classes.max()) + 1, "oracle_kendall_tau_b": kendall_tau_b(oracle, y_test)}


def dropped_nodes(graphs_dir: Path, tokens_per_net: dict[int, int]) -> dict:
    """Built graph size vs token length per net: the share of nets that lost nodes at tokenization, mean sizes."""
    graphs = pa.concat_tables(pq.read_table(s, columns=["net", "num_nodes"])
                              for s in sorted(graphs_dir.glob("graphs-*.parquet")))  # fmt: skip
    built = dict(zip(graphs["net"].to_pylist(), graphs["num_nodes"].to_pylist()))
    if set(built) != set(tokens_per_net):
        raise ValueError(f"{graphs_dir} and the token shards hold different nets: tokenize them again")
    nets = sorted(built)
    nodes = np.array([built[n] for n in nets])
    tokens = np.array([tokens_per_net[n] for n in nets])
    return {"nets": len(nets), "nets_with_dead_nodes": int((tokens < nodes).sum()),
            "share": float((tokens < nodes).mean()), "mean_nodes_built": float(nodes.mean()),
            "mean_tokens": float(tokens.mean())}  # fmt: skip


def token_bound_markdown(result: dict) -> str:
    rows = ["| token channels | distinct sequences (of 15,625) | oracle Kendall tau-b |", "|---|---|---|"]
    for name in CHANNEL_SETS:
        r = result[name]
        rows.append(f"| {name} | {r['distinct_sequences']} | {r['oracle_kendall_tau_b']:.4f} |")
    for name, title in (
        ("isomorphism_classes", "(isomorphism classes of the token graphs: primitive+shape, edges)"),
        ("function_classes", "(NB201 function classes of the cells)"),
    ):
        if name in result:
            r = result[name]
            rows.append(f"| {title} | {r['classes']} | {r['oracle_kendall_tau_b']:.4f} |")
    label = result["label_itself"]["oracle_kendall_tau_b"]
    rows.append(f"| (the training label itself, per net) | - | {label:.4f} |")
    if "dead_nodes" in result:
        dead = result["dead_nodes"]
        rows.append(f"\nNodes that do not reach the output, dropped at tokenization: {dead['nets_with_dead_nodes']:,}"
                    f" of {dead['nets']:,} nets ({dead['share']:.1%}) lose some; mean length"
                    f" {dead['mean_nodes_built']:.1f} nodes as built, {dead['mean_tokens']:.1f} tokens.")  # fmt: skip
    return "\n".join(rows)


def build_timing(raw_dir: Path, workers: int) -> dict:
    from tart.build import BuildOutputs, build_nb201

    with tempfile.TemporaryDirectory() as tmp:
        out = BuildOutputs(*(Path(tmp) / name for name in ("n.hdf5", "n.json", "labels.parquet", "shapes.parquet")))
        start = time.perf_counter()
        build_nb201(raw_dir, out, "nb201", None, workers, 250)
        seconds = time.perf_counter() - start
    return {
        "nets": 15625,
        "workers": workers,
        "seconds": round(seconds, 1),
        "nets_per_second": round(15625 / seconds, 1),
    }


def _write(name: str, result: dict) -> None:
    out = Path("reports/benchmarks") / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "python": platform.python_version()}
    result = {**result, "machine": machine}
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {out}")


def _reference_dir(p) -> Path:
    return (
        Path(os.environ.get("TART_DATA_MIRROR") or p.fetch.mirror or "../shared/data") / "deepnets1m_format_reference"
    )


def main(argv: list[str]) -> None:
    from tart.params import load_params

    p = load_params()
    if argv == ["build"]:
        _write("build_nb201", build_timing(p.paths.raw, p.build.workers))
    elif argv == ["token-bound"]:
        result = token_bound(p.paths.tokens, p.paths.labels, p.train.target, p.evaluate.test_label, p.paths.graphs)
        _write("token_bound", result)
        replace_section(Path("README.md"), "token-bound", token_bound_markdown(result))
    elif argv[:1] == ["scale"] and len(argv) <= 3:
        from tart.bench_scale import scale_benchmark, scale_markdown

        nets, unique = (int(argv[1]) if len(argv) > 1 else 1_000_000), (int(argv[2]) if len(argv) > 2 else 20_000)
        result = scale_benchmark(nets, unique)
        _write("scale", result)
        replace_section(Path("README.md"), "scale", scale_markdown(result))
    elif argv == ["darts-reference"]:
        from tart.reference_match import explain_reference_files, reference_markdown

        result = explain_reference_files(_reference_dir(p))
        _write("darts_reference", result)
        replace_section(Path("README.md"), "darts-reference", reference_markdown(result))
    elif argv[:1] == ["generator-stats"] and len(argv) <= 2:
        from tart.gen_stats import generator_stats, stats_markdown

        reference = _reference_dir(p)
        count = int(argv[1]) if len(argv) > 1 else 2000
        result = generator_stats(reference, count, 0, Path("reports/benchmarks/generator_vs_reference.png"))
        _write("generator_stats", result)
        replace_section(Path("README.md"), "generator-stats", stats_markdown(result))
    elif argv[:1] == ["tokenization"] and len(argv) <= 2:
        from tart.bench_tokenization import tokenization_benchmark, tokenization_markdown

        result = tokenization_benchmark(p, int(argv[1]) if len(argv) > 1 else 781)
        _write("tokenization", result)
        replace_section(Path("README.md"), "tokenization", tokenization_markdown(result))
    elif argv[:1] == ["throughput"] and len(argv) <= 5:
        from tart.bench_throughput import throughput_benchmark, throughput_markdown
        from tart.train import pick_device

        device = pick_device(argv[1] if len(argv) > 1 else "auto")
        gpu = device.type == "cuda"
        precision = argv[2] if len(argv) > 2 else ("bf16" if gpu else "fp32")
        batch = int(argv[3]) if len(argv) > 3 else (1024 if gpu else p.train.batch_size)
        steps = int(argv[4]) if len(argv) > 4 else (100 if gpu else 20)
        result = throughput_benchmark(p, device.type, precision, batch, steps)
        _write(f"throughput_{device.type}", result)
        replace_section(Path("README.md"), f"throughput-{device.type}", throughput_markdown(result))
    elif argv[:1] == ["pretraining"] and len(argv) <= 4:
        from tart.bench_pretraining import pretraining_benchmark, pretraining_markdown
        from tart.pretrain import PretrainConfig

        cfg = PretrainConfig(**{k: int(v) for k, v in zip(("nets", "epochs"), argv[1:3])})
        sizes = [int(n) for n in argv[3].split(",")] if len(argv) > 3 else [100, 781]
        result = pretraining_benchmark(p, cfg, sizes, [0, 1, 2])
        _write("pretraining", result)
        replace_section(Path("README.md"), "pretraining", pretraining_markdown(result))
    elif argv[:1] == ["gbm-grid"] and len(argv) <= 2:
        from tart.bench_gbm_grid import gbm_grid_benchmark, gbm_grid_markdown

        result = gbm_grid_benchmark(p, [int(s) for s in (argv[1] if len(argv) > 1 else "0,1").split(",")])
        _write("gbm_grid", result)
        replace_section(Path("README.md"), "gbm-grid", gbm_grid_markdown(result))
    elif argv[:1] == ["label-mix"] and len(argv) <= 2:
        from tart.bench_label_mix import label_mix_benchmark, label_mix_markdown

        seeds = [int(s) for s in (argv[1] if len(argv) > 1 else "0,1,2").split(",")]
        result = label_mix_benchmark(p, [781, 1563], seeds)
        _write("label_mix", result)
        replace_section(Path("README.md"), "label-mix", label_mix_markdown(result))
    elif argv[:1] == ["canonical-order"] and len(argv) <= 2:
        from tart.bench_canonical_order import canonical_order_benchmark, canonical_order_markdown

        seeds = [int(s) for s in (argv[1] if len(argv) > 1 else "0,1,2").split(",")]
        result = canonical_order_benchmark(p, [781, 1563], seeds)
        _write("canonical_order", result)
        replace_section(Path("README.md"), "canonical-order", canonical_order_markdown(result))
    elif argv[:1] == ["function-input"] and len(argv) <= 2:
        from tart.bench_function_input import function_input_benchmark, function_input_markdown

        seeds = [int(s) for s in (argv[1] if len(argv) > 1 else "0,1,2").split(",")]
        result = function_input_benchmark(p, [781, 1563], seeds)
        _write("function_input", result)
        replace_section(Path("README.md"), "function-input", function_input_markdown(result))
    elif argv[:1] == ["learning-curve"] and len(argv) <= 3:
        from tart.bench_learning_curve import learning_curve_benchmark, learning_curve_markdown

        sizes = [int(n) for n in (argv[1] if len(argv) > 1 else "3125,6250").split(",")]
        seeds = [int(s) for s in (argv[2] if len(argv) > 2 else "0").split(",")]
        result = learning_curve_benchmark(p, sizes, seeds)
        _write("learning_curve", result)
        replace_section(Path("README.md"), "learning-curve", learning_curve_markdown(result))
    elif argv[:1] == ["cell-workers"] and len(argv) <= 3:
        from tart.bench_cell_workers import cell_workers_benchmark, cell_workers_markdown

        result = cell_workers_benchmark(p, *(int(a) for a in argv[1:]))
        _write("cell_workers", result)
        replace_section(Path("README.md"), "cell-workers", cell_workers_markdown(result))
    elif argv[:1] == ["screen"] and len(argv) <= 2:
        from tart.bench_screen import screen_benchmark, screen_markdown

        result = screen_benchmark(p, int(argv[1]) if len(argv) > 1 else p.build.workers)
        _write("screen", result)
        replace_section(Path("README.md"), "screen", screen_markdown(result))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
