import json
from dataclasses import replace

import h5py
import numpy as np
import pytest

from tart.graphs.primitives import PRIMITIVE_ID
from tart.io.deepnets1m import DeepNetsFile, FormatError
from tart.io.extract import extract, extract_files
from tart.spaces.darts.generate import (
    VARIANTS,
    GeneratorConfig,
    GeneratorConfigError,
    generate,
    generate_net,
    merge_shards,
    rejection_reason,
    shard_paths,
)
from tart.spaces.darts.network import build_network, count_params, darts_graph


def same_graph(a, b) -> bool:
    key = lambda g: (g.primitives, g.cells, g.names, g.shapes, sorted(g.edges), g.outputs)  # noqa: E731
    return key(a) == key(b)


def test_a_net_depends_only_on_seed_and_index():
    a, b = generate_net(3, 17, VARIANTS["default"]), generate_net(3, 17, VARIANTS["default"])
    assert a.args == b.args and same_graph(a.graph, b.graph)
    assert generate_net(4, 17, VARIANTS["default"]).args != a.args


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_generated_nets_follow_the_rules_and_both_build_paths_agree(variant):
    config = VARIANTS[variant]
    for index in range(12):
        net = generate_net(0, index, config)
        args = net.args
        assert rejection_reason(args) is None
        assert config.min_cells <= args.n_cells <= config.max_cells
        steps = len(args.genotype.normal) // 2
        assert config.min_steps <= steps <= config.max_steps
        assert max(net.params.values()) <= config.max_params
        assert args.C == config.channels
        if config.norm_free:
            assert PRIMITIVE_ID["bn"] not in net.graph.primitives
        module = build_network(args)
        assert count_params(module) == net.params["cifar10"]
        assert same_graph(net.graph, darts_graph(args))


def test_impossible_ranges_are_refused():
    with pytest.raises(GeneratorConfigError, match="cells 9..3"):
        GeneratorConfig(min_cells=9, max_cells=3).check()
    with pytest.raises(GeneratorConfigError, match="steps 3..2"):
        GeneratorConfig(min_steps=3, max_steps=2).check()
    with pytest.raises(GeneratorConfigError, match="channels 7"):
        GeneratorConfig(channels=7).check()
    with pytest.raises(GeneratorConfigError, match="variant 'huge'"):
        generate(None, "train", 1, variant="huge")


def read_all(directory, split="train"):
    h5, meta = directory / "all.hdf5", directory / "all_meta.json"
    merge_shards(directory, split, h5, meta)
    with DeepNetsFile(h5, meta, split) as f:
        records = [f.read(i, repair="error") for i in range(len(f))]  # our rows are aligned: no repair needed
        nets = f.nets
    return [(r.primitives.tolist(), r.cells.tolist(), r.edges.tolist()) for r in records], nets


def test_sharding_workers_and_resume_give_the_same_nets(tmp_path):
    one = tmp_path / "one"
    generate(one, "train", 23, seed=5, shard_size=23, workers=1)
    many = tmp_path / "many"
    generate(many, "train", 23, seed=5, shard_size=5, workers=2)
    assert len(shard_paths(many, "train")) == 5
    graphs_one, nets_one = read_all(one)
    graphs_many, nets_many = read_all(many)
    assert graphs_one == graphs_many and nets_one == nets_many

    # An interrupted run: one shard missing, one truncated, a stray temporary file. Resuming redoes exactly those.
    shards = shard_paths(many, "train")
    shards[1][0].unlink()
    shards[3][0].write_bytes(shards[3][0].read_bytes()[:100])
    (many / "deepnets1m_train_00002.hdf5.tmp").write_bytes(b"partial")
    summary = generate(many, "train", 23, seed=5, shard_size=5, workers=1)
    assert summary["shards_resumed"] == 3
    assert read_all(many) == (graphs_one, nets_one)


def test_a_merge_that_deletes_its_shards_writes_the_same_file_and_a_rerun_regenerates_them(tmp_path):
    kept, deleted = tmp_path / "kept", tmp_path / "deleted"
    for directory in (kept, deleted):
        generate(directory, "train", 7, seed=3, shard_size=3, workers=1)
    merge_shards(kept, "train", kept / "all.hdf5", kept / "all_meta.json")
    shards = shard_paths(deleted, "train")
    merge_shards(deleted, "train", deleted / "all.hdf5", deleted / "all_meta.json", delete_shards=True)
    assert len(shards) == 3 and not any(h5.exists() or meta.exists() for h5, meta in shards)
    assert shard_paths(kept, "train")  # the default keeps them
    with DeepNetsFile(kept / "all.hdf5", kept / "all_meta.json", "train") as a, \
            DeepNetsFile(deleted / "all.hdf5", deleted / "all_meta.json", "train") as b:  # fmt: skip
        assert a.nets == b.nets
        assert all(np.array_equal(a.h5["train"][str(k)][key][()], b.h5["train"][str(k)][key][()])
                   for k in range(7) for key in ("adj", "nodes"))  # fmt: skip
    summary = generate(deleted, "train", 7, seed=3, shard_size=3, workers=1)
    assert summary["shards_resumed"] == 0
    assert read_all(deleted) == read_all(kept)


def test_shards_extract_as_the_merged_file_would(tmp_path):
    generate(tmp_path, "train", 23, seed=5, shard_size=5, workers=1)
    shards = shard_paths(tmp_path, "train")
    merged = (tmp_path / "all.hdf5", tmp_path / "all_meta.json")
    merge_shards(tmp_path, "train", *merged)
    extract(*merged, "train", tmp_path / "from_merged", "report", 5, workers=1)
    summary = extract_files(shards, "train", tmp_path / "from_shards", "report", workers=2)
    assert summary["nets"] == 23 and len(summary["shards"]) == 5
    written = sorted(p.name for p in (tmp_path / "from_merged").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "from_shards").iterdir())
    for name in written:
        assert (tmp_path / "from_merged" / name).read_bytes() == (tmp_path / "from_shards" / name).read_bytes(), name
    with DeepNetsFile(*shards[4], "train") as last, DeepNetsFile(*merged, "train") as whole:
        local, global_ = last.read(0).name_ids, whole.read(20).name_ids
    assert not np.array_equal(local, global_)  # op-name ids were renumbered, so the test above checks the remap

    shards[2][0].write_bytes(shards[2][0].read_bytes()[:100])  # a truncated shard: one error naming it, no output
    with pytest.raises(FormatError, match="deepnets1m_train_00002.hdf5"):
        extract_files(shards, "train", tmp_path / "bad", "report", workers=1)
    assert not (tmp_path / "bad").exists()
    with pytest.raises(FormatError, match="no 'train' files"):
        extract_files([], "train", tmp_path / "bad", "report")


def test_resuming_with_other_settings_is_refused(tmp_path):
    generate(tmp_path, "train", 4, seed=1, shard_size=2, workers=1)
    with pytest.raises(GeneratorConfigError, match="seed"):
        generate(tmp_path, "train", 4, seed=2, shard_size=2, workers=1)


def test_merged_file_has_the_published_layout(tmp_path):
    generate(tmp_path, "val", 6, seed=0, shard_size=4, workers=1)
    merge_shards(tmp_path, "val", tmp_path / "deepnets1m_val.hdf5", tmp_path / "deepnets1m_val_meta.json")
    with h5py.File(tmp_path / "deepnets1m_val.hdf5", "r") as f:
        assert f.attrs["title"] == "DeepNets-1M"
        assert sorted(f["val"], key=int) == [str(i) for i in range(6)]
        assert f["val/5/adj"].dtype == np.uint8 and f["val/5/nodes"].dtype == np.uint16
    meta = json.loads((tmp_path / "deepnets1m_val_meta.json").read_text())["val"]
    record = meta["nets"][0]
    assert {"genotype", "n_cells", "C", "num_nodes", "num_params"} <= set(record)
    names = set(meta["meta"]["unique_op_names"].values())
    assert "input" in names and not any(n.startswith("cells.") for n in names)


def test_channels_override_keeps_other_ranges():
    wide = replace(VARIANTS["default"], channels=48)
    assert generate_net(0, 0, wide).args.C == 48
