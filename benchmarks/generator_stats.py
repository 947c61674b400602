"""Our generator against the DeepNets-1M format-reference files (made by the original generator), statistically.

python -m benchmarks generator-stats [NETS]

Compared: node counts, parameter counts (two-sample Kolmogorov-Smirnov), primitive frequencies (share of all
nodes), and per-net traits read from `net_args` (msa / cse / none in the genotype, cells, steps, head, norm).
The reference files lack most msa/cse nodes (their writer contracted them), so node statistics of our nets are given
both as generated and with msa/cse nodes contracted, which is how the original generator would have written them.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from tart.core.files import atomic_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import ks_2samp  # noqa: E402

from tart.graphs.edit import simplify  # noqa: E402
from tart.graphs.primitives import PRIMITIVES  # noqa: E402
from tart.io.deepnets1m import DeepNetsFile  # noqa: E402
from tart.spaces.darts.generate import VARIANTS, generate_net  # noqa: E402

REFERENCE_FILES = (("deepnets1m_train", "train"), ("deepnets1m_eval", "val"), ("deepnets1m_eval", "test"))


def traits(record: dict) -> dict[str, float]:
    g = record["genotype"]
    ops = [op for op, _ in g["normal"] + g["reduce"]]
    return {
        "has_msa": float("msa" in ops),
        "has_cse": float("cse" in ops),
        "has_none": float("none" in ops),
        "n_cells": float(record["n_cells"]),
        "steps": float(len(g["normal"]) // 2),
        "no_norm": float(record["norm"] is None),
        "glob_avg": float(record["glob_avg"]),
        "stem_type_1": float(record["stem_type"] == 1),
        "C_mult_2": float(record["C_mult"] == 2),
        "fc_layers_2": float(record["fc_layers"] == 2),
    }


def _summary(values: np.ndarray) -> dict:
    q10, q50, q90 = np.percentile(values, [10, 50, 90])
    return {"mean": float(values.mean()), "std": float(values.std()), "p10": float(q10), "median": float(q50),
            "p90": float(q90)}  # fmt: skip


def reference_sample(reference_dir: Path) -> dict:
    nodes, params, counts, rows = [], [], np.zeros(len(PRIMITIVES)), []
    for stem, split in REFERENCE_FILES:
        with DeepNetsFile(reference_dir / f"{stem}.hdf5", reference_dir / f"{stem}_meta.json", split) as f:
            for index in range(len(f)):
                record = f.nets[index]
                prims = f.read(index).primitives
                nodes.append(len(prims))
                params.append(record["num_params"]["cifar10"])
                counts += np.bincount(prims, minlength=len(PRIMITIVES))
                rows.append(traits(record))
    return {"nodes": np.array(nodes), "params": np.array(params), "primitive_counts": counts, "traits": rows}


def generated_sample(count: int, seed: int, variant: str = "default") -> dict:
    nodes, nodes_contracted, params, rows = [], [], [], []
    counts, counts_contracted = np.zeros(len(PRIMITIVES)), np.zeros(len(PRIMITIVES))
    for index in range(count):
        net = generate_net(seed, index, VARIANTS[variant])
        contracted = simplify(net.graph, contract=("msa", "cse"))
        nodes.append(net.graph.num_nodes)
        nodes_contracted.append(contracted.num_nodes)
        params.append(net.params["cifar10"])
        counts += np.bincount(net.graph.primitives, minlength=len(PRIMITIVES))
        counts_contracted += np.bincount(contracted.primitives, minlength=len(PRIMITIVES))
        rows.append(traits(net.args.to_record()))
    return {"nodes": np.array(nodes), "nodes_contracted": np.array(nodes_contracted), "params": np.array(params),
            "primitive_counts": counts, "primitive_counts_contracted": counts_contracted, "traits": rows}  # fmt: skip


def compare(ours: dict, ref: dict) -> dict:
    def ks(a: np.ndarray, b: np.ndarray) -> dict:
        test = ks_2samp(a, b)
        return {"statistic": float(test.statistic), "p_value": float(test.pvalue)}

    share = lambda c: {p: float(v) for p, v in zip(PRIMITIVES, c / c.sum())}  # noqa: E731
    trait_names = list(ref["traits"][0])
    mean_trait = lambda rows: {k: float(np.mean([r[k] for r in rows])) for k in trait_names}  # noqa: E731
    return {
        "nets": {"generated": len(ours["nodes"]), "reference": len(ref["nodes"])},
        "nodes": {
            "generated": _summary(ours["nodes"]),
            "generated_msa_cse_contracted": _summary(ours["nodes_contracted"]),
            "reference": _summary(ref["nodes"]),
            "ks_contracted_vs_reference": ks(ours["nodes_contracted"], ref["nodes"]),
        },  # fmt: skip
        "params": {
            "generated": _summary(ours["params"]),
            "reference": _summary(ref["params"]),
            "ks": ks(ours["params"], ref["params"]),
        },  # fmt: skip
        "primitive_share": {
            "generated": share(ours["primitive_counts"]),
            "generated_msa_cse_contracted": share(ours["primitive_counts_contracted"]),
            "reference": share(ref["primitive_counts"]),
        },  # fmt: skip
        "traits": {"generated": mean_trait(ours["traits"]), "reference": mean_trait(ref["traits"])},
    }


def plot(ours: dict, ref: dict, result: dict, path: Path) -> None:
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0, 0]
    bins = np.linspace(0, max(ours["nodes"].max(), ref["nodes"].max()), 40)
    share = lambda v: np.full(len(v), 1 / len(v))  # noqa: E731  (fraction of nets per bin)
    ax.hist(ours["nodes_contracted"], bins, weights=share(ours["nodes"]), alpha=0.5, label="ours (msa/cse contracted)")
    ax.hist(ref["nodes"], bins, weights=share(ref["nodes"]), alpha=0.5, label="reference files")
    ax.set(xlabel="nodes per net", ylabel="fraction of nets", title="Node count")
    ax.legend()
    ax = axes[0, 1]
    bins = np.logspace(4, 7.1, 40)
    ax.hist(ours["params"], bins, weights=share(ours["params"]), alpha=0.5, label="ours")
    ax.hist(ref["params"], bins, weights=share(ref["params"]), alpha=0.5, label="reference files")
    ax.set(xscale="log", xlabel="parameters (CIFAR-10 head)", ylabel="fraction of nets", title="Parameter count")
    ax.legend()
    ax = axes[1, 0]
    x = np.arange(len(PRIMITIVES))
    shares = result["primitive_share"]
    ax.bar(x - 0.2, [shares["generated_msa_cse_contracted"][p] for p in PRIMITIVES], 0.4, label="ours (contracted)")
    ax.bar(x + 0.2, [shares["reference"][p] for p in PRIMITIVES], 0.4, label="reference files")
    ax.set_xticks(x, PRIMITIVES, rotation=60, ha="right")
    ax.set(ylabel="share of nodes", title="Primitive frequency")
    ax.legend()
    ax = axes[1, 1]
    names = [k for k in result["traits"]["reference"] if k not in ("n_cells", "steps")]
    x = np.arange(len(names))
    ax.bar(x - 0.2, [result["traits"]["generated"][k] for k in names], 0.4, label="ours")
    ax.bar(x + 0.2, [result["traits"]["reference"][k] for k in names], 0.4, label="reference files")
    ax.set_xticks(x, names, rotation=40, ha="right")
    ax.set(ylabel="fraction of nets", title="Per-net traits (from net_args)")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def generator_stats(reference_dir: Path, count: int, seed: int, figure: Path) -> dict:
    ours, ref = generated_sample(count, seed), reference_sample(reference_dir)
    result = compare(ours, ref)
    plot(ours, ref, result, figure)
    return {**result, "figure": str(figure), "seed": seed}


def stats_markdown(r: dict) -> str:
    n, prm, t, share = r["nodes"], r["params"], r["traits"], r["primitive_share"]
    ours_n, ref_n = n["generated_msa_cse_contracted"], n["reference"]
    kinds = ("conv", "bn", "sum", "sep_conv")
    fmt = lambda v: f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.0f}k"  # noqa: E731
    rows = [
        "| statistic | ours | reference files |", "|---|---|---|",
        f"| nets compared | {r['nets']['generated']:,} | {r['nets']['reference']} |",
        "| nodes per net, mean / median (ours with msa/cse contracted, as the reference files store them) | "
        f"{ours_n['mean']:.1f} / {ours_n['median']:g} | {ref_n['mean']:.1f} / {ref_n['median']:g} |",
        f"| parameters, mean / median | {fmt(prm['generated']['mean'])} / {fmt(prm['generated']['median'])} | "
        f"{fmt(prm['reference']['mean'])} / {fmt(prm['reference']['median'])} |",
        "| nets with msa / cse / none in the genotype | " + " | ".join(
            " / ".join(f"{t[w][k]:.2f}" for k in ("has_msa", "has_cse", "has_none"))
            for w in ("generated", "reference")) + " |",
        "| mean cells / steps | " + " | ".join(f"{t[w]['n_cells']:.1f} / {t[w]['steps']:.2f}"
                                              for w in ("generated", "reference")) + " |",
        "| channel multiplier 2 | " + " | ".join(f"{t[w]['C_mult_2']:.2f}" for w in ("generated", "reference")) + " |",
        f"| share of {' / '.join(kinds)} nodes | "
        + " | ".join(" / ".join(f"{share[w][k]:.3f}" for k in kinds)
                     for w in ("generated_msa_cse_contracted", "reference")) + " |",
        f"| two-sample KS: node count / parameter count | statistic {n['ks_contracted_vs_reference']['statistic']:.3f}"
        f" (p = {n['ks_contracted_vs_reference']['p_value']:.2g}) / {prm['ks']['statistic']:.3f} "
        f"(p = {prm['ks']['p_value']:.2g}) | |",
    ]  # fmt: skip
    return "\n".join(rows)
