"""How much a token scheme can know (`python -m benchmarks token-bound`): distinct sequences and the Kendall tau-b
of an oracle that predicts the class-mean training label."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tart.core.metrics import kendall_tau_b
from tart.spaces.nb201.cell_function import function_classes
from tart.tokens.isomorphism import GRAPH_COLUMNS, class_mean, isomorphism_classes, token_graph

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
    isomorphism classes of the token graphs and the NB201 function classes (tart.tokens.isomorphism), which the
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
