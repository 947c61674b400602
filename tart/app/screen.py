"""Rank many candidate networks with one checkpoint (`tart screen`).

Candidates come as a text file of NB201 architecture strings (one per line) or as one split of a
DeepNets-1M-format HDF5 file with its meta JSON. They are converted, tokenized and predicted in chunks, so memory
stays bounded however many there are; the result is one row per candidate in input order, with its rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
from scipy.stats import rankdata
from tqdm import tqdm

from tart.app.checkpoints import training_profile
from tart.app.distribution import assess
from tart.core import files
from tart.core.parallel import parallel_map
from tart.graphs.graph import graph_row
from tart.io.deepnets1m import DeepNetsFile, FormatError
from tart.io.extract import load_node_shapes, record_row
from tart.spaces.nb201.network import ArchStringError, GraphComposer, parse_arch
from tart.tokens.token_set import token_set
from tart.tokens.tokenize import tokenize_table, vocab_hash, vocabulary
from tart.training.checkpoint import load_checkpoint
from tart.training.targets import to_label_scale
from tart.training.train import predict_with_pooled


class ScreenError(ValueError):
    """Candidates that cannot be screened; the message names the file and the record."""


SCREEN = pa.schema([
    ("candidate", pa.int64()),  # line number - 1 (NB201 strings) or net index in the HDF5 split
    ("source", pa.string()),  # the architecture string, or "split/index" of the HDF5 file
    ("prediction", pa.float64()),  # in the units of the checkpoint's training label
    ("rank", pa.int64()),  # 1 = highest prediction; ties share the lowest rank
    ("num_nodes", pa.int32()),  # nodes of the converted graph
    ("live_nodes", pa.int32()),  # nodes that reach the output: the ones tokenized
    # against the checkpoint's training profile (tart/app/distribution.py); null when it has none
    ("unseen_tokens", pa.int32()),  # token positions holding an id no training net has
    ("distance", pa.float64()),  # to the nearest training net in the model's embedding, in units of its reach
    ("outside", pa.bool_()),  # unseen tokens, a live-node count outside the training range, or distance > 1
])  # fmt: skip


@dataclass(frozen=True)
class Candidates:
    """Where the candidates come from: `chunks` yields graph tables (`graph_row` columns) in input order."""

    sources: list[str]
    chunks: Iterable[pa.Table]


def read_arch_file(path: Path) -> list[str]:
    """The NB201 strings of `path`, one per line; any empty or malformed line is an error naming it."""
    if not path.is_file():
        raise ScreenError(f"{path}: no such file")
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError as exc:
        raise ScreenError(f"{path}: not a text file of NB201 strings (HDF5 input must end in .hdf5 or .h5)") from exc
    archs = []
    for number, line in enumerate(lines, start=1):
        arch = line.strip()
        if not arch:
            raise ScreenError(f"{path}: line {number} is empty; expected one NB201 architecture string per line")
        try:
            parse_arch(arch)
        except ArchStringError as exc:
            raise ScreenError(f"{path}: line {number}: {exc}") from exc
        archs.append(arch)
    if not archs:
        raise ScreenError(f"{path}: no architecture strings")
    return archs


_composer: GraphComposer | None = None  # one per worker process: its fixed blocks are converted once


def _start_composer() -> None:
    global _composer
    _composer = GraphComposer()


def _nb201_chunk(job: tuple[int, list[str]]) -> pa.Table:
    start, archs = job
    assert _composer is not None, "worker started without _start_composer"
    return pa.Table.from_pylist([graph_row(_composer.graph(a)[0], start + k, "nb201") for k, a in enumerate(archs)])


def nb201_candidates(archs: list[str], workers: int | None = None, chunk: int = 500) -> Candidates:
    """NB201 strings converted to graphs in worker processes (the slow part: about 15 ms per net per core)."""
    jobs = [(start, archs[start : start + chunk]) for start in range(0, len(archs), chunk)]
    return Candidates(archs, parallel_map(_nb201_chunk, jobs, workers, _start_composer))


def hdf5_split(h5: Path) -> str:
    """The only split (top-level group) of `h5`; an error listing them when there are several."""
    try:
        with h5py.File(h5, "r") as f:
            groups = sorted(f)
    except OSError as exc:
        raise ScreenError(f"{h5}: not a readable HDF5 file: {exc}") from exc
    if len(groups) != 1:
        raise ScreenError(f"{h5}: holds the splits {groups}; name one with --split")
    return groups[0]


def deepnets_candidates(h5: Path, meta: Path, split: str, shapes: Path | None = None,
                        chunk: int = 2000) -> Candidates:  # fmt: skip
    """One split of a DeepNets-1M-format file; `shapes` is a node-shapes Parquet as the build stage writes it
    (one row per net, `net` and `shapes`), without which every node gets the unknown shape token."""
    source = DeepNetsFile(h5, meta, split)
    count = len(source)
    try:
        node_shapes = load_node_shapes(shapes, count)
    except FormatError:
        source.h5.close()
        raise

    def chunks() -> Iterator[pa.Table]:
        with source:
            for start in range(0, count, chunk):
                stop = min(start + chunk, count)
                n = stop - start
                shapes_of = [None] * n if node_shapes is None else node_shapes.slice(start, n).to_pylist()
                rows = [record_row(source.read(index), shape) for index, shape in zip(range(start, stop), shapes_of)]
                yield pa.Table.from_pylist(rows).select(["net", "split", "num_nodes", "primitives", "cells",
                                                         "shapes", "edge_src", "edge_dst"])  # fmt: skip

    return Candidates([f"{split}/{index}" for index in range(count)], chunks())


def checked_vocabulary(meta: dict, checkpoint: Path) -> dict:
    """This code's token vocabulary, if it is the one the checkpoint was trained with."""
    vocab = vocabulary()
    if vocab_hash(vocab) != meta["vocab_hash"]:
        raise ScreenError(f"{checkpoint}: trained with vocabulary {meta['vocab_hash']}, this code has "
                          f"{vocab_hash(vocab)}; retrain (dvc repro) or use a matching version")  # fmt: skip
    return vocab


def screen(candidates: Candidates, checkpoint: Path, batch_size: int = 256,
           progress: bool = True) -> tuple[pa.Table, dict]:  # fmt: skip
    """Predict every candidate with `checkpoint` and measure it against the checkpoint's training profile (when it
    has one: `tart/app/checkpoints.py`); returns the `SCREEN` table (input order) and facts about the checkpoint
    (its training label, whether a profile was found, how many candidates lie outside it)."""
    model, meta = load_checkpoint(checkpoint)
    vocab = checked_vocabulary(meta, checkpoint)
    known = training_profile(checkpoint)
    channels, cfg = tuple(meta["channels"]), model.cfg
    names = ("prediction", "num_nodes", "live_nodes", "unseen_tokens", "distance", "outside")
    parts: dict[str, list[np.ndarray]] = {name: [] for name in names}
    with tqdm(total=len(candidates.sources), desc="screen", unit="net", disable=not progress) as bar:
        for graphs in candidates.chunks:
            tokens = tokenize_table(graphs, vocab)
            lengths = tokens["length"].to_numpy()
            too_long = np.flatnonzero(lengths > cfg.max_len)
            if len(too_long):
                first = int(graphs["net"][int(too_long[0])].as_py())
                raise ScreenError(f"candidate {first} ({candidates.sources[first]}): {lengths[too_long[0]]} nodes "
                                  f"reach its output; {checkpoint} handles at most {cfg.max_len}")  # fmt: skip
            ts = token_set(tokens, channels, vocab, cfg.graph_pe, cfg.pe_dim)
            outputs, embeddings = predict_with_pooled(model, ts, np.arange(len(lengths)), batch_size,
                                                      meta["params"]["precision"])  # fmt: skip
            parts["prediction"].append(to_label_scale(outputs[:, 0], meta["target_scale"]))
            parts["num_nodes"].append(graphs["num_nodes"].to_numpy())
            parts["live_nodes"].append(lengths)
            if known is not None:
                found = assess(known, model, ts, embeddings)
                parts["unseen_tokens"].append(found.unseen_tokens)
                parts["distance"].append(found.distance)
                parts["outside"].append(found.outside)
            bar.update(len(lengths))
    prediction = np.concatenate(parts["prediction"])
    if len(prediction) != len(candidates.sources):
        raise ScreenError(f"converted {len(prediction)} of {len(candidates.sources)} candidates")
    columns = {"candidate": np.arange(len(prediction)), "source": candidates.sources, "prediction": prediction,
               "rank": rankdata(-prediction, method="min").astype(np.int64),
               "num_nodes": np.concatenate(parts["num_nodes"]), "live_nodes": np.concatenate(parts["live_nodes"])}
    for name in ("unseen_tokens", "distance", "outside"):  # unknown (null) without a training profile
        columns[name] = np.concatenate(parts[name]) if known is not None else pa.nulls(len(prediction))
    facts = {"label": meta["params"]["target"], "checkpoint": str(checkpoint), "profile": known is not None,
             "outside": int(columns["outside"].sum()) if known is not None else None,
             "training_live_nodes": known.live_nodes if known is not None else None}  # fmt: skip
    return pa.table(columns).cast(SCREEN), facts


def write_screen(table: pa.Table, path: Path) -> None:
    """Write atomically (a failed screen leaves no file behind)."""
    files.write_table(table, path, SCREEN)
