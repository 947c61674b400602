"""Nets that are the same network written differently, and predictions averaged over each such class.

TART reads a graph's nodes in file order, so two numberings of one network can get different scores. Two nets
belong to one isomorphism class when their token graphs (pruned at tokenization) are isomorphic with equal
primitive and parameter-shape tokens at matched nodes. Weisfeiler-Lehman hashes bucket the graphs and VF2 splits
any bucket the hash merged wrongly, so the classes are exact. On NB201 the cell's function classes
(`tart.spaces.nb201.cell_function.function_classes`) are coarser still: they also merge cells that differ only by
skip connections.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

GRAPH_COLUMNS = ["net", "tokens", "shape_tokens", "edge_src", "edge_dst"]


def token_graph(row: dict) -> nx.DiGraph:
    """One token row as a DiGraph; node attribute "label" = (primitive token, parameter-shape token)."""
    graph = nx.DiGraph()
    graph.add_nodes_from((k, {"label": pair}) for k, pair in enumerate(zip(row["tokens"], row["shape_tokens"])))
    graph.add_edges_from(zip(row["edge_src"], row["edge_dst"]))
    return graph


def load_token_graphs(tokens_dir: Path, nets: np.ndarray) -> list[nx.DiGraph]:
    """The token graphs of `nets`, in that order; KeyError naming the first net the shards lack."""
    shards = sorted(tokens_dir.glob("tokens-*.parquet"))
    if not shards:
        raise FileNotFoundError(f"{tokens_dir}: no tokens-*.parquet; run the tokenize stage first")
    table = pa.concat_tables(pq.read_table(s, columns=GRAPH_COLUMNS) for s in shards)
    rows = {row["net"]: row for row in table.to_pylist()}
    missing = [int(n) for n in nets if int(n) not in rows]
    if missing:
        raise KeyError(f"{tokens_dir}: nets {missing[:5]} have no tokens")
    return [token_graph(rows[int(n)]) for n in nets]


def _same_labels(a: dict, b: dict) -> bool:
    return a["label"] == b["label"]


def isomorphism_classes(graphs: list[nx.DiGraph], progress: bool = True) -> np.ndarray:
    """Class id per graph (0, 1, ... in order of first appearance): equal ids exactly when isomorphic."""
    representatives: dict[str, list[tuple[int, nx.DiGraph]]] = {}  # hash -> (class id, first graph) per class
    classes = np.empty(len(graphs), dtype=np.int64)
    count = 0
    with warnings.catch_warnings():  # networkx 3.5 changed directed-graph hashes; hashes never leave the process
        warnings.simplefilter("ignore", UserWarning)
        for k, graph in enumerate(tqdm(graphs, desc="isomorphism classes", unit="graph", disable=not progress)):
            bucket = representatives.setdefault(nx.weisfeiler_lehman_graph_hash(graph, node_attr="label"), [])
            match = next((c for c, g in bucket if nx.is_isomorphic(g, graph, node_match=_same_labels)), None)
            if match is None:
                match, count = count, count + 1
                bucket.append((match, graph))
            classes[k] = match
    return classes


def class_mean(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Each value replaced by the mean over its class."""
    sums = np.bincount(classes, weights=values)
    return (sums / np.bincount(classes))[classes]
