"""`figures` stage: predicted vs true accuracy, the training curve, and one NB201 graph drawn with NetworkX."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import matplotlib

from tart.core.files import atomic_path

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

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


# Each model family has one colour in every figure; its variants differ by line style and marker.
FAMILIES = (  # (title, colour, predictor key prefixes)
    ("TART", "tab:blue", ("tart",)),
    ("NAR-Former-style", "tab:orange", ("narformer",)),
    ("TG-NAS-style GCN", "tab:green", ("tgnas",)),
    ("gradient boosting", "tab:red", ("gbm_",)),
    ("Gaussian process", "tab:brown", ("gp_",)),
    ("random forest", "tab:purple", ("rf_",)),
    ("ridge", "tab:cyan", ("ridge_",)),
    ("no training", "tab:olive", ("params", "flops")),  # grey is the ceilings' colour
)
# Panels of tau_vs_train_size: a few families each, about eight series at most.
PANELS = (("TART",), ("NAR-Former-style",), ("TG-NAS-style GCN",), ("gradient boosting", "Gaussian process"),
          ("random forest", "ridge", "no training"))  # fmt: skip
# Legend text of a variant; prefixed by its family where a panel holds several families.
VARIANT_LABELS = {
    "tart": "one model per seed", "tart_ensemble": "seed ensemble",
    "tart_iso": "per seed, averaged over isomorphic graphs",
    "tart_ensemble_iso": "ensemble, averaged over isomorphic graphs",
    "tart_function": "per seed, averaged over the function class",
    "tart_ensemble_function": "ensemble, averaged over the function class",
    "narformer": "cells as written", "narformer_live": "live ops",
    "narformer_canonical": "function-class representative",
    "tgnas": "cells as written", "tgnas_live": "live ops", "tgnas_canonical": "function-class representative",
    "gbm_onehot": "one-hot edge ops", "gbm_paths": "live ops + path counts",
    "gbm_canonical": "function-class cell features",
    "gbm_canonical_cifar100": "function-class features, CIFAR-10 + CIFAR-100 labels",
    "gp_canonical": "function-class cell features",
    "gp_gbm_canonical": "mixed with gradient boosting",
    "rf_onehot": "one-hot edge ops", "rf_paths": "live ops + path counts",
    "rf_canonical": "function-class cell features", "ridge_onehot": "one-hot edge ops",
    "params": "parameter count", "flops_nb201": "FLOPs, NB201's count",
    "flops_2mac": "FLOPs, 2 per multiply-accumulate",
}  # fmt: skip
LINE_STYLES, VARIANT_MARKERS = ("-", "--", ":", "-."), "osD^v<>p"


def family_of(predictor: str) -> tuple[str, str]:
    """(family title, colour) of a predictor key; a predictor outside every family is an error, not a grey line."""
    for title, colour, prefixes in FAMILIES:
        if predictor.startswith(prefixes):
            return title, colour
    raise ValueError(f"no figure family for predictor {predictor!r}; add its key prefix to "
                     "tart.evaluation.figures.FAMILIES")  # fmt: skip


def variant_styles(entries: list[dict]) -> dict[str, dict]:
    """Matplotlib style per predictor: the family's colour, and the k-th variant of a family the k-th line style and
    marker (in table order)."""
    styles, seen = {}, {}
    for entry in entries:
        if entry["predictor"] in ("ceiling", "published"):
            continue
        family, colour = family_of(entry["predictor"])
        k = seen[family] = seen.get(family, -1) + 1
        styles[entry["predictor"]] = {"color": colour, "linestyle": LINE_STYLES[k % len(LINE_STYLES)],
                                      "marker": VARIANT_MARKERS[k % len(VARIANT_MARKERS)]}  # fmt: skip
    return styles


def best_per_family(entries: list[dict], size: int) -> list[dict]:
    """Each family's variant with the highest tau at `size` (the headline figure's rows), in family order."""
    best: dict[str, dict] = {}
    for entry in entries:
        if entry["predictor"] in ("ceiling", "published") or size not in entry["scores"]:
            continue
        family = family_of(entry["predictor"])[0]
        tau = entry["scores"][size]["kendall_tau_b"]
        if family not in best or tau > best[family]["scores"][size]["kendall_tau_b"]:
            best[family] = entry
    return [best[title] for title, _, _ in FAMILIES if title in best]


def _references(ax: plt.Axes, entries: list[dict], x_text: float) -> None:
    """The label ceilings as grey lines and the published numbers as black open circles, each labelled where it
    sits (text beside it, not only in a legend)."""
    ceilings = [e for e in entries if e["predictor"] == "ceiling"]
    ceilings.sort(key=lambda e: next(iter(e["scores"].values()))["kendall_tau_b"])
    for k, (entry, style) in enumerate(zip(ceilings, ("--", ":", "-."))):
        tau = next(iter(entry["scores"].values()))["kendall_tau_b"]
        ax.axhline(tau, color="grey", linestyle=style, linewidth=1)
        above = k == len(ceilings) - 1  # the highest label above its line, the others below theirs: no overlap
        ax.annotate(entry["name"], (x_text, tau), xytext=(0, 2 if above else -2), textcoords="offset points",
                    fontsize=6.5, color="dimgrey", ha="left", va="bottom" if above else "top")  # fmt: skip
    for entry in (e for e in entries if e["published"]):
        sizes = sorted(entry["scores"])
        taus = [entry["scores"][n]["kendall_tau_b"] for n in sizes]
        ax.plot(sizes, taus, "o", color="black", fillstyle="none", markersize=7)
        for n, tau in zip(sizes, taus):
            ax.annotate(f"{entry['name'].split(' (')[0]} {tau:.3f}", (n, tau), xytext=(-6, 0),
                        textcoords="offset points", fontsize=6.5, ha="right", va="center")  # fmt: skip


def tau_vs_train_size(entries: list[dict], path: Path) -> None:
    """Kendall tau-b against the number of training nets: a headline panel with each family's best variant, then
    one panel per family (or a few small ones) with all its variants; error bars = std over seeds. Ceilings and
    published numbers appear in every panel, labelled where they sit."""
    styles = variant_styles(entries)
    fitted = [e for e in entries if e["predictor"] in styles]
    sizes = sorted({n for e in fitted for n in e["scores"]})
    panels = [("best variant of each family", best_per_family(entries, sizes[-1]), True)]
    for titles in PANELS:
        members = [e for e in fitted if family_of(e["predictor"])[0] in titles]
        if members:
            panels.append((" / ".join(titles), members, False))
    columns = 3
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 4.6 * rows), sharex=True, sharey=True,
                             squeeze=False)  # fmt: skip
    for ax, (title, members, headline) in zip(axes.flat, panels):
        for entry in members:
            ns = sorted(entry["scores"])
            errs = [entry["scores"][n].get("kendall_tau_b_std") or np.nan for n in ns]
            variant = VARIANT_LABELS.get(entry["predictor"], entry["name"])
            several = headline or len(title.split(" / ")) > 1  # families share the panel: name the family
            label = f"{family_of(entry['predictor'])[0]}: {variant}" if several else variant
            ax.errorbar(ns, [entry["scores"][n]["kendall_tau_b"] for n in ns], yerr=errs, capsize=2,
                        markersize=4, label=label, **styles[entry["predictor"]])  # fmt: skip
        _references(ax, entries, sizes[0])
        ax.set_xscale("log")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5, loc="best")
        ax.set_xlabel("training nets (first N by index)")
        ax.xaxis.set_tick_params(labelbottom=True)
    for ax in axes[:, 0]:
        ax.set_ylabel("Kendall tau-b vs CIFAR-10 test accuracy")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.suptitle("NAS-Bench-201: ranking quality against training-set size (every row: reports/comparison.md)")
    fig.tight_layout()
    _save(fig, path)


def bar_rows(entries: list[dict], sizes: list[int]) -> list[tuple[str, dict[int, dict]]]:
    """The headline bars' rows, (label, the entry drawn at each size): each family's best variant at each size, then
    the label ceilings and the published numbers. A family whose best variant is the same at every size is labelled
    with that variant's name; otherwise with the family's title and each size's variant."""
    best = {n: {family_of(e["predictor"])[0]: e for e in best_per_family(entries, n)} for n in sizes}
    rows = []
    for title, _, _ in FAMILIES:
        drawn = {n: best[n][title] for n in sizes if title in best[n]}
        if drawn:
            names = {e["name"] for e in drawn.values()}
            variants = ", ".join(f"{VARIANT_LABELS.get(e['predictor'], e['name'])} ({n})" for n, e in drawn.items())
            rows.append((names.pop() if len(names) == 1 else f"{title}: {variants}", drawn))
    references = [e for e in entries if e["predictor"] == "ceiling" or e["published"]]
    return rows + [(e["name"], {n: e for n in sizes}) for e in references]


def comparison_bars(entries: list[dict], path: Path) -> None:
    """The headline comparison: each family's best variant at each training-set size of the table (lighter: the
    smaller), the label ceilings and the published numbers; error bars = std over seeds. Every variant's row is in the
    comparison table."""
    sizes = table_sizes(entries)
    rows = bar_rows(entries, sizes)
    width, handles = 0.8 / len(sizes), []
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.42 * len(rows)))
    y = np.arange(len(rows))
    for k, n in enumerate(sizes):
        drawn = [row.get(n) for _, row in rows]
        taus = [np.nan if e is None else e["scores"].get(n, {}).get("kendall_tau_b", np.nan) for e in drawn]
        # nan: no bar (a family without that size) or no error bar (one seed)
        errs = [np.nan if e is None else e["scores"].get(n, {}).get("kendall_tau_b_std") or np.nan
                for e in drawn]  # fmt: skip
        colours = ["white" if e is None else "black" if e["published"] else "grey" if e["predictor"] == "ceiling"
                   else family_of(e["predictor"])[1] for e in drawn]  # fmt: skip
        alpha = 0.45 + 0.55 * (k + 1) / len(sizes)  # the largest size full strength
        bars = ax.barh(y + k * width, taus, width, xerr=errs, color=colours, alpha=alpha, capsize=2)
        handles.append(Patch(color="grey", alpha=alpha, label=f"{n} training nets"))
        for bar, entry, tau, err in zip(bars, drawn, taus, errs):
            if entry is None or np.isnan(tau):
                continue
            if entry["published"]:
                bar.set_hatch("//")
                bar.set_facecolor("white")
                bar.set_edgecolor("black")
            ax.text(tau + np.nan_to_num(err) + 0.005, bar.get_y() + bar.get_height() / 2, f"{n}: {tau:.3f}",
                    va="center", fontsize=7)
    ax.set_yticks(y + width * (len(sizes) - 1) / 2, [label for label, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Kendall tau-b vs CIFAR-10 test accuracy (all NB201 nets)")
    lows = [e["scores"].get(n, {}).get("kendall_tau_b", 1.0) for _, row in rows for n, e in row.items()]
    ax.set_xlim(max(0.0, math.floor(10 * min(lows)) / 10 - 0.1), 1.0)
    ax.legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(sizes), frameon=False)
    ax.set_title("NAS-Bench-201: best variant of each family, ceilings, published (hatched: not run here)",
                 pad=22, loc="right", fontsize=10)  # fmt: skip
    fig.tight_layout()
    _save(fig, path)
