"""Ask a trained checkpoint about any network: build its graph, tokenize it, predict in label units."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tart.graphs.from_module import GraphBuildError, module_to_graph
from tart.graphs.graph import ArchGraph, graph_row
from tart.spaces.nb201.network import GraphComposer
from tart.tokens.positional import graph_input
from tart.tokens.tokenize import tokenize_row, vocab_hash, vocabulary
from tart.training.checkpoint import load_checkpoint
from tart.training.targets import to_label_scale


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




def checked_vocabulary(meta: dict, checkpoint: Path) -> dict:
    """This code's token vocabulary, if it is the one the checkpoint was trained with."""
    vocab = vocabulary()
    if vocab_hash(vocab) != meta["vocab_hash"]:
        raise PredictError(f"{checkpoint}: trained with vocabulary {meta['vocab_hash']}, this code has "
                           f"{vocab_hash(vocab)}; retrain (dvc repro) or use a matching version")  # fmt: skip
    return vocab


def predict_graph(graph: ArchGraph, checkpoint: Path) -> dict:
    """Prediction of `checkpoint` for `graph`, in the units of its training label."""
    model, meta = load_checkpoint(checkpoint)
    vocab = checked_vocabulary(meta, checkpoint)
    tokens = tokenize_row(graph_row(graph, 0, "user"), vocab)
    if tokens["length"] > model.cfg.max_len:
        raise PredictError(f"the graph has {tokens['length']} nodes that reach its output; {checkpoint} handles at "
                           f"most {model.cfg.max_len}")  # fmt: skip
    ids = torch.tensor(np.stack([tokens[c] for c in meta["channels"]], axis=-1))[None]  # (1, L, C)
    encoding = graph_input(model.cfg.graph_pe, model.cfg.pe_dim, [tokens["length"]], [tokens["edge_src"]],
                           [tokens["edge_dst"]])  # fmt: skip
    model.eval()
    with torch.no_grad():
        raw = model(ids, encoding)[:, 0].numpy()
    return {
        "label": meta["params"]["target"],
        "prediction": float(to_label_scale(raw, meta["target_scale"])[0]),
        "num_nodes": graph.num_nodes,
        "live_nodes": tokens["length"],  # the nodes that reach the output: the ones tokenized
        "checkpoint": str(checkpoint),
    }
