"""Ask a trained checkpoint about any network: build its graph, tokenize it, predict in label units."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa
from torch import nn

from tart.app.distribution import reasons
from tart.app.screen import Candidates, screen
from tart.graphs.from_module import GraphBuildError, module_to_graph
from tart.graphs.graph import ArchGraph, graph_row
from tart.spaces.nb201.network import GraphComposer


class PredictError(ValueError):
    """The network or checkpoint cannot be used for a prediction; the message says why."""


def load_factory(spec: str) -> nn.Module:
    """`path/to/file.py:factory` -> the module returned by calling `factory()`."""
    path_text, _, name = spec.rpartition(":")
    path = Path(path_text)
    if not path_text or not name:
        raise PredictError(f"{spec!r}: expected PATH.py:FACTORY, e.g. models.py:resnet18")
    if not path.is_file():
        raise PredictError(f"{path}: no such file")
    module_spec = importlib.util.spec_from_file_location(path.stem, path)
    source = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(source)
    except Exception as exc:  # the user's file: report whatever it raised
        raise PredictError(f"{path}: importing it failed: {exc!r}") from exc
    factory = getattr(source, name, None)
    if not callable(factory):
        raise PredictError(f"{path}: no callable {name!r}")
    try:
        built = factory()
    except Exception as exc:
        raise PredictError(f"{path}:{name}() failed: {exc!r}") from exc
    if not isinstance(built, nn.Module):
        raise PredictError(f"{path}:{name}() returned {type(built).__name__}, not a torch.nn.Module")
    return built


def module_graph(module: nn.Module, input_shape: tuple[int, ...]) -> ArchGraph:
    try:
        return module_to_graph(module, input_shape)
    except GraphBuildError as exc:
        raise PredictError(str(exc)) from exc


def nb201_graph(arch: str) -> ArchGraph:
    return GraphComposer().graph(arch)[0]


def predict_graph(graph: ArchGraph, checkpoint: Path) -> dict:
    """Prediction of `checkpoint` for `graph`, in the units of its training label, and where the graph lies against
    the checkpoint's training profile (`distribution`: None when the checkpoint has none)."""
    single = Candidates(["the network"], [pa.Table.from_pylist([graph_row(graph, 0, "user")])])
    table, facts = screen(single, checkpoint, progress=False)
    row = table.to_pylist()[0]
    distribution = None
    if facts["profile"]:
        distribution = {
            "unseen_tokens": row["unseen_tokens"],
            "distance": row["distance"],
            "outside": row["outside"],
            "why": reasons(row["unseen_tokens"], row["live_nodes"], row["distance"], facts["training_live_nodes"]),
        }
    return {
        "label": facts["label"],
        "prediction": row["prediction"],
        "num_nodes": row["num_nodes"],
        "live_nodes": row["live_nodes"],  # the nodes that reach the output: the ones tokenized
        "checkpoint": str(checkpoint),
        "distribution": distribution,
    }
