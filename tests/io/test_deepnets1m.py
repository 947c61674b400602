import json

import h5py
import numpy as np
import pytest

from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID
from tart.io import deepnets1m
from tart.io.deepnets1m import DeepNetsFile, FormatError, Writer, distance_matrix, read_results_labels


def chain(*names, edges=None):
    g = ArchGraph()
    for k, name in enumerate(names):
        sources = [k - 1] if k and edges is None else [s for s, t in (edges or []) if t == k]
        g.add_node(PRIMITIVE_ID[name], 0, f"n{k}" if name in ("conv", "bn") else name, (), sources)
    return g


def tiny_graphs():
    residual = chain("input", "conv", "bn", "sum", edges=[(0, 1), (1, 2), (2, 3), (0, 3)])
    return [chain("input", "conv", "bn"), residual, chain("input", "conv", "glob_avg", "conv", "bias")]


@pytest.fixture
def tiny(tmp_path):
    h5, meta = tmp_path / "nets.hdf5", tmp_path / "nets_meta.json"
    written = deepnets1m.write_split(h5, meta, "train", ((g, {"n_cells": 1}) for g in tiny_graphs()))
    assert written == 3
    return h5, meta


def test_round_trip_of_tiny_file(tiny):
    h5, meta = tiny
    with DeepNetsFile(h5, meta, "train") as f:
        records = list(f)
    assert len(records) == 3
    for rec, g in zip(records, tiny_graphs()):
        assert rec.primitives.tolist() == g.primitives
        assert rec.edges.tolist() == [list(e) for e in sorted(g.edges)]
        assert not rec.misaligned
    with h5py.File(h5, "r") as f:
        assert f.attrs["title"] == "DeepNets-1M"
        assert f["train"]["1"]["adj"].dtype == np.uint8 and f["train"]["1"]["nodes"].dtype == np.uint16
    assert json.loads(meta.read_text())["train"]["nets"][1]["num_nodes"] == 4


def test_virtual_edges_are_shortest_path_distances(tiny):
    h5, meta = tiny
    with DeepNetsFile(h5, meta, "train") as f:
        adj = f.read(0, distances=True).distances
    assert adj.tolist() == [[0, 1, 2], [0, 0, 1], [0, 0, 0]]
    assert distance_matrix(2, np.zeros((0, 2), int)).tolist() == [[0, 0], [0, 0]]


def test_misaligned_rows_are_detected_and_repaired(tmp_path):
    bad = chain("input", "conv", "bn", "conv", edges=[(0, 1), (0, 2), (1, 2), (2, 3)])  # bn with two inputs
    h5, meta = tmp_path / "m.hdf5", tmp_path / "m.json"
    deepnets1m.write_split(h5, meta, "train", [(bad, {})])
    with DeepNetsFile(h5, meta, "train") as f:
        assert f.read(0).misaligned
        assert f.read(0, repair="keep_first_in_edge").edges.tolist() == [[0, 1], [0, 2], [2, 3]]
        with pytest.raises(FormatError, match=r"train/0: nodes \[2\] contradict"):
            f.read(0, repair="error")


def test_not_hdf5_and_truncated(tiny, tmp_path):
    h5, meta = tiny
    junk = tmp_path / "junk.hdf5"
    junk.write_text("not hdf5")
    with pytest.raises(FormatError, match="junk.hdf5: not a readable HDF5"):
        DeepNetsFile(junk, meta, "train")
    cut = tmp_path / "cut.hdf5"
    cut.write_bytes(h5.read_bytes()[: h5.stat().st_size // 2])
    with pytest.raises(FormatError, match="cut.hdf5"):
        with DeepNetsFile(cut, meta, "train") as f:
            list(f)


def test_meta_count_mismatch(tiny):
    h5, meta = tiny
    doc = json.loads(meta.read_text())
    doc["train"]["nets"].pop()
    meta.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="3 nets in HDF5 but 2 in meta"):
        DeepNetsFile(h5, meta, "train")


def test_unknown_primitive_name(tiny):
    h5, meta = tiny
    doc = json.loads(meta.read_text())
    doc["train"]["meta"]["primitives_ext"]["4"] = "transformer_block"
    meta.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=r"nets_meta.json: split 'train': primitives_ext id 4 is 'transformer_block'"):
        DeepNetsFile(h5, meta, "train")


def test_writer_leaves_nothing_on_failure(tmp_path):
    h5, meta = tmp_path / "x.hdf5", tmp_path / "x.json"

    def items():
        yield tiny_graphs()[0], {}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        deepnets1m.write_split(h5, meta, "train", items())
    assert list(tmp_path.iterdir()) == []


def test_writer_nodes_follow_adj_order(tmp_path):
    with Writer(tmp_path / "w.hdf5", tmp_path / "w.json", "val") as writer:
        writer.add(tiny_graphs()[1], {})
    with h5py.File(tmp_path / "w.hdf5", "r") as f:
        nodes = f["val"]["0"]["nodes"][()]
    assert nodes[:, 0].tolist() == [PRIMITIVE_ID[p] for p in ("input", "conv", "bn", "sum")]


def test_reference_files(reference):
    counts = {}
    for h5, meta, split, n in [
        ("deepnets1m_train.hdf5", "deepnets1m_train_meta.json", "train", 200),
        ("deepnets1m_eval.hdf5", "deepnets1m_eval_meta.json", "val", 50),
        ("deepnets1m_eval.hdf5", "deepnets1m_eval_meta.json", "test", 50),
    ]:
        with DeepNetsFile(reference / h5, reference / meta, split) as f:
            assert len(f) == n
            records = list(f)
        assert all(r.primitives.max() < 15 for r in records)
        assert all(len(r.cells) == f.nets[r.index]["num_nodes"] for r in records)
        counts[split] = sum(r.misaligned for r in records)
        first = records[0]
        assert first.primitives[0] == PRIMITIVE_ID["input"]
    # The original generator's row-order quirk shows in almost every net (README of the reference files).
    assert counts == {"train": 196, "val": 47, "test": 49}


def test_reference_repair_removes_contradictions(reference):
    with DeepNetsFile(reference / "deepnets1m_eval.hdf5", reference / "deepnets1m_eval_meta.json", "val") as f:
        rec = f.read(0, repair="keep_first_in_edge")
    assert len(deepnets1m.find_misaligned_nodes(rec.primitives, rec.edges)) == 0


def test_results_labels(mirror):
    rows = read_results_labels(mirror / "deepnets1m_ppuda" / "results_cifar10.json")
    val = [r for r in rows if r["split"] == "val"]
    assert len(val) == 500 and all(r["val_acc"] is not None for r in val)
    assert [r["net"] for r in val] == list(range(500))
    assert {r["split"] for r in rows} >= {"val", "test", "wide", "deep", "dense", "bnfree"}


def test_results_labels_bad_file(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"val": {"zero": {}}}))
    with pytest.raises(FormatError, match="val/zero"):
        read_results_labels(path)


def _rewrite_net(h5, index: int, adj: np.ndarray, nodes: np.ndarray) -> None:
    with h5py.File(h5, "r+") as f:
        del f["train"][str(index)]
        f["train"].create_dataset(f"{index}/adj", data=adj)
        f["train"].create_dataset(f"{index}/nodes", data=nodes)


def test_a_net_without_nodes_is_one_clear_error(tiny):
    h5, meta = tiny
    _rewrite_net(h5, 1, np.zeros((0, 0), np.uint8), np.zeros((0, 3), np.uint16))
    with DeepNetsFile(h5, meta, "train") as f:
        assert len(f.read(0).primitives) == 3  # the others still read
        with pytest.raises(FormatError, match=r"nets.hdf5: train/1: a net with no nodes"):
            f.read(1)


def test_unknown_primitive_ids_print_as_plain_numbers(tiny):
    h5, meta = tiny
    with h5py.File(h5, "r") as f:
        adj, nodes = f["train"]["0"]["adj"][()], f["train"]["0"]["nodes"][()]
    nodes[1, 0] = 200
    _rewrite_net(h5, 0, adj, nodes)
    with DeepNetsFile(h5, meta, "train") as f, pytest.raises(FormatError) as caught:
        f.read(0)
    assert str(caught.value).endswith("train/0: primitive ids [200] have no entry in the meta's primitives_ext")
    assert "np." not in str(caught.value)
