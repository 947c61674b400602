"""`figures` stage: predicted vs true accuracy, the training curve, and one NB201 graph drawn with NetworkX."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib

from tart.core.files import atomic_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from tart.core.metrics import kendall_tau_b  # noqa: E402
from tart.evaluation.report import table_sizes  # noqa: E402
from tart.graphs.primitives import PRIMITIVES  # noqa: E402

MARKERS = "osD^v<>phH*Xd8P"
PNG_META = {"Software": None}  # no version string inside tracked images


def _save(fig: plt.Figure, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, metadata=PNG_META, format="png")
    plt.close(fig)


def pred_vs_true(pred: np.ndarray, true: np.ndarray, train_mask: np.ndarray, path: Path, label: str) -> None:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(true[~train_mask], pred[~train_mask], s=2, alpha=0.3, label="not trained on", color="tab:blue")
    ax.scatter(true[train_mask], pred[train_mask], s=2, alpha=0.5, label="training nets", color="tab:orange")
    ax.set_xlabel(f"true {label} (%)")
    ax.set_ylabel("predicted (%)")
    ax.set_title(f"NAS-Bench-201, all {len(true)} nets: Kendall tau-b = {kendall_tau_b(pred, true):.3f}")
    ax.legend(loc="upper left", markerscale=4)
    _save(fig, path)


def training_curve(curves: list[dict], path: Path) -> None:
    epochs = [c["epoch"] for c in curves]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [c["train_loss"] for c in curves], color="tab:red", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax2 = ax.twinx()
    ax2.plot(epochs, [c["val_kendall_tau_b"] for c in curves], color="tab:blue", label="validation Kendall tau-b")
    ax2.set_ylabel("validation Kendall tau-b")
    fig.legend(loc="lower center", ncol=2)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    _save(fig, path)


def primitive_frequency(graphs: list[list[int]]) -> list[int]:
    """Primitive ids ordered by how often they occur over `graphs` (most frequent first, ties by id)."""
    counts = Counter(p for g in graphs for p in g)
    return sorted(counts, key=lambda p: (-counts[p], p))


def draw_graph(primitives: list[int], edges: list[tuple[int, int]], order: list[int], path: Path, title: str) -> None:
    """Layered drawing (one column per topological generation), one marker and colour per primitive."""
    g = nx.DiGraph()
    g.add_nodes_from(range(len(primitives)))
    g.add_edges_from(edges)
    for layer, nodes in enumerate(nx.topological_generations(g)):
        for node in nodes:
            g.nodes[node]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer", align="vertical")
    fig, ax = plt.subplots(figsize=(14, 4))
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=False, width=0.4, alpha=0.5)
    colours = plt.get_cmap("tab20")
    ranked = order + [p for p in sorted(set(primitives)) if p not in order]
    for prim in ranked:
        nodes = [k for k, p in enumerate(primitives) if p == prim]
        if nodes:
            nx.draw_networkx_nodes(
                g, pos, nodelist=nodes, ax=ax, node_size=22, node_shape=MARKERS[prim % len(MARKERS)],
                node_color=[colours(prim)], label=f"{PRIMITIVES[prim]} ({len(nodes)})",
            )  # fmt: skip
    ax.set_title(title)
    ax.legend(title="primitive (by training-set frequency)", loc="upper left", bbox_to_anchor=(1, 1), fontsize=8)
    ax.axis("off")
    fig.tight_layout()
    _save(fig, path)


def render_all(predictions: Path, curves_csv: Path, graphs_dir: Path, example_net: int, out_dir: Path) -> list[Path]:
    """All figures of the pipeline from its own outputs; returns the written paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    preds = pq.read_table(predictions).to_pydict()
    train_mask = np.asarray(preds["role"]) == "train"
    paths = [out_dir / "pred_vs_true.png", out_dir / "training_curve.png", out_dir / "nb201_graph.png"]
    pred_vs_true(
        np.asarray(preds["prediction"]), np.asarray(preds["target"]), train_mask, paths[0], "CIFAR-10 test accuracy"
    )
    rows = [line.split(",") for line in curves_csv.read_text().splitlines()[1:]]
    training_curve(
        [{"epoch": int(e), "train_loss": float(loss), "val_kendall_tau_b": float(t)} for e, loss, t in rows], paths[1]
    )
    graphs = pa.concat_tables(pq.read_table(s, columns=["net", "primitives", "edge_src", "edge_dst"])
                              for s in sorted(graphs_dir.glob("graphs-*.parquet"))).to_pydict()  # fmt: skip
    train_nets = {n for n, r in zip(preds["net"], preds["role"]) if r == "train"}
    order = primitive_frequency([p for n, p in zip(graphs["net"], graphs["primitives"]) if n in train_nets])
    k = graphs["net"].index(example_net)
    edges = list(zip(graphs["edge_src"][k], graphs["edge_dst"][k]))
    draw_graph(
        graphs["primitives"][k], edges, order, paths[2], f"NAS-Bench-201 net {example_net} as a DeepNets-1M graph"
    )
    return paths


def comparison_bars(entries: list[dict], path: Path) -> None:
    """Kendall tau-b per predictor, one bar per training-set size of the table, error bars = std over seeds."""
    sizes = table_sizes(entries)
    width = 0.8 / len(sizes)
    fig, ax = plt.subplots(figsize=(14, 1.5 + 0.26 * len(entries)))
    y = np.arange(len(entries))
    for k, n in enumerate(sizes):
        taus = [e["scores"].get(n, {}).get("kendall_tau_b", np.nan) for e in entries]
        errs = [e["scores"].get(n, {}).get("kendall_tau_b_std") or np.nan for e in entries]  # nan: no error bar
        bars = ax.barh(y + k * width, taus, width, xerr=errs, label=f"{n} training nets", capsize=2)
        for bar, entry in zip(bars, entries):
            if entry["published"]:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
    ax.set_yticks(y + width * (len(sizes) - 1) / 2, [e["name"] for e in entries])
    ax.invert_yaxis()
    ax.set_xlabel("Kendall tau-b vs CIFAR-10 test accuracy (all NB201 nets)")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(sizes), frameon=False)  # above the bars
    # right-aligned: the long predictor names leave the axes narrow, and the title may run over their column
    ax.set_title("NAS-Bench-201 predictors (hatched: published, not run here)", pad=22, loc="right")
    fig.tight_layout()
    _save(fig, path)


def tau_vs_train_size(entries: list[dict], path: Path) -> None:
    """Kendall tau-b against the number of training nets, one line per predictor (published numbers as open
    markers, the label ceilings as grey lines), error bars = std over seeds."""
    fig, ax = plt.subplots(figsize=(15, 6))
    ceiling_styles = iter(["--", ":", "-."])  # the training label's, then those of label mixes
    colors, markers = plt.get_cmap("tab10").colors, "osD^v<>"  # more lines than colors: vary the marker too
    drawn = 0
    for entry in entries:
        sizes = sorted(entry["scores"])
        taus = [entry["scores"][n]["kendall_tau_b"] for n in sizes]
        if entry["name"].startswith("ceiling"):
            ax.axhline(taus[0], color="grey", linestyle=next(ceiling_styles, ":"), label=entry["name"])
            continue
        errs = [entry["scores"][n].get("kendall_tau_b_std") or np.nan for n in sizes]
        style = {"color": colors[drawn % len(colors)], "marker": markers[drawn // len(colors) % len(markers)]}
        if entry["published"]:
            style |= {"marker": "o", "linestyle": "none", "fillstyle": "none"}
        ax.errorbar(sizes, taus, yerr=errs, capsize=2, label=entry["name"], **style)
        drawn += 1
    ax.set_xscale("log")
    ax.set_xlabel("training nets (first N by index)")
    ax.set_ylabel("Kendall tau-b vs CIFAR-10 test accuracy")
    ax.set_title("NAS-Bench-201: ranking quality against training-set size")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside the axes, off the lines
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
