"""DeepNets-1M file layout: the only module that knows it (reading, validating, repairing and writing).

HDF5: root attribute `title='DeepNets-1M'`; one group per split; per net a group named by its decimal index with
`adj` (uint8 N x N; 1 = edge i->j, 2..250 = shortest-path distance, a "virtual edge") and `nodes` (uint16 N x 3:
primitive id into the meta's `primitives_ext`, cell index, parameter-name id into `unique_op_names`).
Meta JSON: `{split: {"nets": [net_args, ...], "meta": {"primitives_ext": {...}, "unique_op_names": {...}}}}`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import ijson
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from tart.core.files import temporary_name, write_text
from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID, PRIMITIVES, canonical_id

TITLE = "DeepNets-1M"
MAX_DISTANCE = 250
# Nodes that legitimately merge several inputs; any other node with two or more incoming edges betrays rows of
# `nodes` that do not describe the rows of `adj` (quirk 1 of the original generator).
MERGING = frozenset(PRIMITIVE_ID[p] for p in ("sum", "concat", "cse", "msa"))
REPAIRS = ("report", "error", "keep_first_in_edge")


class FormatError(ValueError):
    """A file that does not follow the DeepNets-1M layout; the message names the file and record."""


@dataclass
class NetRecord:
    """One net as read from a file, with primitive ids mapped to the canonical 15."""

    split: str
    index: int
    primitives: np.ndarray  # (N,) uint8 canonical ids
    cells: np.ndarray  # (N,) int32
    name_ids: np.ndarray  # (N,) int32 keys of the file's unique_op_names
    edges: np.ndarray  # (E, 2) int32 plain edges, sorted
    misaligned: bool
    distances: np.ndarray | None = None  # (N, N) uint8 with virtual edges, on request


def find_misaligned_nodes(primitives: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Nodes whose label contradicts their edges: a non-merging node with >= 2 inputs, or an input with any."""
    indegree = np.bincount(edges[:, 1], minlength=len(primitives)) if len(edges) else np.zeros(len(primitives), int)
    merging = np.isin(primitives, list(MERGING))
    bad = (~merging & (indegree >= 2)) | ((primitives == PRIMITIVE_ID["input"]) & (indegree > 0))
    return np.flatnonzero(bad)


def keep_first_in_edge(primitives: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Repair in the style of the dataset authors' later loader: a non-merging node keeps its first input only."""
    keep = np.ones(len(edges), dtype=bool)
    seen: set[int] = set()
    for k, (_, dst) in enumerate(edges):
        if primitives[dst] in MERGING:
            continue
        if dst in seen:
            keep[k] = False
        seen.add(int(dst))
    return edges[keep]


def _id_map(file: Path, split: str, mapping: dict[str, str]) -> np.ndarray:
    size = max(int(k) for k in mapping) + 1
    ids = np.full(size, 255, dtype=np.uint8)
    for key, name in mapping.items():
        try:
            ids[int(key)] = canonical_id(name)
        except KeyError:
            raise FormatError(
                f"{file}: split {split!r}: primitives_ext id {key} is {name!r}, not one of the DeepNets-1M "
                f"primitives {PRIMITIVES} (or the alias conv_1x1)"
            ) from None
    return ids


def _stream_meta(meta_path: Path, split: str) -> tuple[np.ndarray, dict]:
    """(`n_cells` of every net, the split's id maps), streamed: the published 1M-net train meta is ~0.5 GB of
    JSON, and parsing it whole would take several GB of memory. -1 where a record has no `n_cells`."""
    try:
        with open(meta_path, "rb") as fh:
            records = ijson.items(fh, f"{split}.nets.item")
            n_cells = np.fromiter((int(r.get("n_cells") or -1) for r in records), dtype=np.int32)
        with open(meta_path, "rb") as fh:
            meta = next(ijson.items(fh, f"{split}.meta"), None)
    except (OSError, ijson.JSONError) as exc:
        raise FormatError(f"{meta_path}: not a readable DeepNets-1M meta JSON ({exc})") from exc
    if meta is None:
        with open(meta_path, "rb") as fh:
            splits = [v for prefix, event, v in ijson.parse(fh) if prefix == "" and event == "map_key"]
        if split not in splits:
            raise FormatError(f"{meta_path}: no split {split!r}; the file has {sorted(splits)}")
        raise FormatError(f"{meta_path}: split {split!r} lacks nets/meta/primitives_ext/unique_op_names")
    return n_cells, meta


def _read_dataset(group: h5py.Group, path: str) -> np.ndarray:
    """A whole dataset through h5py's low-level API: a third of the cost of `group[path][()]`, which matters at
    a million nets."""
    dataset = h5py.h5d.open(group.id, path.encode())
    out = np.empty(dataset.shape, dtype=dataset.dtype)
    if out.size:
        dataset.read(h5py.h5s.ALL, h5py.h5s.ALL, out)
    return out


class DeepNetsFile:
    """Read-only access to one split of an HDF5 + meta JSON pair; nets are read one at a time (constant memory)."""

    def __init__(self, h5_path: Path, meta_path: Path, split: str) -> None:
        self.h5_path, self.meta_path, self.split = Path(h5_path), Path(meta_path), split
        self._nets: list[dict] | None = None
        self.n_cells, meta = _stream_meta(self.meta_path, split)
        try:
            self.names: dict[str, str] = meta["unique_op_names"]
            self.id_map = _id_map(meta_path, split, meta["primitives_ext"])
        except (KeyError, TypeError) as exc:
            raise FormatError(f"{meta_path}: split {split!r} lacks nets/meta/primitives_ext/unique_op_names") from exc
        try:
            self.h5 = h5py.File(h5_path, "r")
        except OSError as exc:
            raise FormatError(f"{h5_path}: not a readable HDF5 file (truncated or another format): {exc}") from exc
        if self.h5.attrs.get("title") != TITLE:
            raise FormatError(f"{h5_path}: root attribute title is {self.h5.attrs.get('title')!r}, expected {TITLE!r}")
        if split not in self.h5:
            raise FormatError(f"{h5_path}: no group {split!r}; the file has {sorted(self.h5)}")
        self.group = self.h5[split]
        count = len(self.group)
        if count != len(self.n_cells):
            raise FormatError(
                f"{h5_path} / {meta_path}: split {split!r} has {count} nets in HDF5 but {len(self.n_cells)} in meta"
            )

    @property
    def nets(self) -> list[dict]:
        """Every `net_args` record of the split (parsed on first use: about 3 GB for the 1M-net train meta)."""
        if self._nets is None:
            with open(self.meta_path) as fh:
                self._nets = json.load(fh)[self.split]["nets"]
        return self._nets

    def __len__(self) -> int:
        return len(self.n_cells)

    def __enter__(self) -> DeepNetsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.h5.close()

    def read(self, index: int, *, distances: bool = False, repair: str = "report") -> NetRecord:
        """Read and validate net `index`; `repair` is one of REPAIRS (see `find_misaligned_nodes`)."""
        where = f"{self.h5_path}: {self.split}/{index}"
        try:
            adj, nodes = _read_dataset(self.group, f"{index}/adj"), _read_dataset(self.group, f"{index}/nodes")
        except KeyError:
            raise FormatError(f"{where}: missing net group or its adj/nodes datasets") from None
        except OSError as exc:
            raise FormatError(f"{where}: unreadable data ({exc}); the file may be truncated") from exc
        n = nodes.shape[0] if nodes.ndim == 2 else -1
        if adj.dtype != np.uint8 or nodes.dtype != np.uint16 or nodes.shape != (n, 3) or adj.shape != (n, n):
            raise FormatError(
                f"{where}: expected adj uint8 (N, N) and nodes uint16 (N, 3); got adj {adj.dtype} {adj.shape}, "
                f"nodes {nodes.dtype} {nodes.shape}"
            )
        if n == 0:
            raise FormatError(f"{where}: a net with no nodes (adj and nodes are empty); expected at least one node")
        raw_ids = nodes[:, 0]
        unknown = raw_ids >= len(self.id_map)
        unknown[~unknown] = self.id_map[raw_ids[~unknown]] == 255
        if unknown.any():
            ids = sorted({int(i) for i in raw_ids[unknown]})  # plain ints: numpy scalars would print as np.uint16(7)
            raise FormatError(f"{where}: primitive ids {ids} have no entry in the meta's primitives_ext")
        rows, cols = np.divmod(np.flatnonzero(adj), n)  # 2-D np.nonzero is ~10x slower on these matrices
        if (rows >= cols).any():
            raise FormatError(f"{where}: adj has entries on or below the diagonal; nodes must be in topological order")
        n_cells = int(self.n_cells[index])
        if n_cells >= 0 and nodes[:, 1].max(initial=0) >= max(n_cells, 1):
            raise FormatError(f"{where}: cell index {nodes[:, 1].max()} >= n_cells {n_cells}")
        primitives = self.id_map[raw_ids]
        plain = adj[rows, cols] == 1
        edges = np.stack([rows[plain], cols[plain]], axis=1).astype(np.int32)
        bad = find_misaligned_nodes(primitives, edges)
        if len(bad) and repair == "error":
            raise FormatError(f"{where}: nodes {bad[:10].tolist()} contradict their edges (misaligned rows)")
        if len(bad) and repair == "keep_first_in_edge":
            edges = keep_first_in_edge(primitives, edges)
        return NetRecord(
            self.split, index, primitives, nodes[:, 1].astype(np.int32), nodes[:, 2].astype(np.int32), edges,
            bool(len(bad)), adj if distances else None,
        )  # fmt: skip

    def __iter__(self) -> Iterator[NetRecord]:
        for index in range(len(self)):
            yield self.read(index)


def distance_matrix(num_nodes: int, edges: np.ndarray) -> np.ndarray:
    """`adj` as DeepNets-1M stores it: 1 for edges, shortest-path distance (capped at 250) for other reachable pairs."""
    if len(edges) == 0:
        return np.zeros((num_nodes, num_nodes), dtype=np.uint8)
    graph = csr_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(num_nodes, num_nodes))
    dist = shortest_path(graph, directed=True, unweighted=True)
    dist[~np.isfinite(dist)] = 0
    return np.minimum(dist, MAX_DISTANCE).astype(np.uint8)


class Writer:
    """Writes one split in the published layout, `nodes` rows in `adj` order; files appear only when complete.

    Use it as a context manager: the files are written when the block ends normally, and nothing is left behind
    when it raises.
    """

    def __init__(self, h5_path: Path, meta_path: Path, split: str) -> None:
        self.h5_path, self.meta_path, self.split = Path(h5_path), Path(meta_path), split
        self.h5_tmp = temporary_name(self.h5_path)
        self.h5 = h5py.File(self.h5_tmp, "w")
        self.h5.attrs["title"] = TITLE
        self.group = self.h5.create_group(split)
        self.nets: list[dict] = []
        self.names: dict[str, int] = {}

    def add(self, graph: ArchGraph, net_args: dict, adj: np.ndarray | None = None) -> None:
        """Append the next net; `adj` may be precomputed (e.g. in a worker) with `distance_matrix`."""
        if adj is None:
            adj = distance_matrix(graph.num_nodes, graph.edge_array())
        name_ids = [self.names.setdefault(name, len(self.names)) for name in graph.names]
        nodes = np.stack([graph.primitives, graph.cells, name_ids], axis=1).astype(np.uint16)
        self.add_stored(adj, nodes, {**net_args, "num_nodes": graph.num_nodes})

    def name_ids(self, names: list[str]) -> np.ndarray:
        """This file's ids for another file's op names (in that file's id order), new names appended."""
        return np.array([self.names.setdefault(name, len(self.names)) for name in names], dtype=np.uint16)

    def add_stored(self, adj: np.ndarray, nodes: np.ndarray, net_args: dict) -> None:
        """Append a net already in the stored layout (`nodes` columns: primitive, cell, this file's name id)."""
        net = self.group.create_group(str(len(self.nets)))
        net.create_dataset("adj", data=adj)
        net.create_dataset("nodes", data=nodes)
        self.nets.append(net_args)

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def close(self) -> None:
        self.h5.close()
        meta = {
            self.split: {
                "nets": self.nets,
                "meta": {
                    "primitives_ext": {str(i): p for i, p in enumerate(PRIMITIVES)},
                    "unique_op_names": {str(i): name for name, i in self.names.items()},
                },
            }
        }
        try:
            write_text(self.meta_path, json.dumps(meta))
        except BaseException:
            self.h5_tmp.unlink(missing_ok=True)
            raise
        os.replace(self.h5_tmp, self.h5_path)

    def abort(self) -> None:
        self.h5.close()
        self.h5_tmp.unlink(missing_ok=True)


def write_split(h5_path: Path, meta_path: Path, split: str, items: Iterable[tuple[ArchGraph, dict]]) -> int:
    """Write (graph, net_args) pairs as one split; nothing is left behind if anything fails."""
    with Writer(h5_path, meta_path, split) as writer:
        for graph, net_args in items:
            writer.add(graph, net_args)
    return len(writer.nets)


PROPERTIES = ("val_acc", "val_acc_noise", "time", "converge_time", "test_acc", "params")


def read_results_labels(path: Path) -> list[dict]:
    """Rows (split, net, property...) from the published `results_cifar10.json`; absent properties are None."""
    try:
        with open(path) as fh:
            results = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: not a readable results JSON ({exc})") from exc
    rows = []
    for split, nets in results.items():
        for key, props in nets.items():
            if not key.isdigit() or not isinstance(props, dict):
                raise FormatError(f"{path}: {split}/{key}: expected a net index mapping to a dict of properties")
            rows.append({"split": split, "net": int(key), **{p: props.get(p) for p in PROPERTIES}})
    return sorted(rows, key=lambda r: (r["split"], r["net"]))
