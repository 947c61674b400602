import json

import pyarrow.parquet as pq
import pytest

from tart.core import files
from tart.graphs.graph import ArchGraph
from tart.graphs.primitives import PRIMITIVE_ID
from tart.io import deepnets1m
from tart.io.deepnets1m import FormatError
from tart.io.extract import extract
from tart.tokens.tokenize import tokenize


def test_extract_and_tokenize_reference_split(reference, tmp_path):
    summary = extract(
        reference / "deepnets1m_eval.hdf5", reference / "deepnets1m_eval_meta.json", "val", tmp_path / "g", "report", 20
    )
    assert summary["nets"] == 50 and summary["misaligned"] == 47
    assert summary["shards"] == ["graphs-00000.parquet", "graphs-00001.parquet", "graphs-00002.parquet"]
    table = pq.read_table(tmp_path / "g" / "graphs-00000.parquet")
    assert table.num_rows == 20 and table["net"].to_pylist() == list(range(20))
    assert json.loads((tmp_path / "g" / "summary.json").read_text())["misaligned"] == 47
    tokenize(tmp_path / "g", tmp_path / "t")
    tokens = pq.read_table(tmp_path / "t" / "tokens-00002.parquet")
    assert tokens["net"].to_pylist() == list(range(40, 50))
    assert all(t[0] == PRIMITIVE_ID["input"] + 1 for t in tokens["tokens"].to_pylist())


def test_shapes_must_match_nodes(tmp_path):
    g = ArchGraph()
    g.add_node(PRIMITIVE_ID["input"], 0, "input", (), [])
    g.add_node(PRIMITIVE_ID["conv"], 0, "c.weight", (4, 3, 3, 3), [0])
    deepnets1m.write_split(tmp_path / "a.hdf5", tmp_path / "a.json", "x", [(g, {})])
    import pyarrow as pa

    from tart.core import schemas

    shapes = pa.table({"net": [0], "shapes": [[[4, 3, 3, 3]]]})
    files.write_table(shapes, tmp_path / "s.parquet", schemas.NODE_SHAPES)
    with pytest.raises(FormatError, match="1 shapes for 2 nodes"):
        extract(tmp_path / "a.hdf5", tmp_path / "a.json", "x", tmp_path / "g", "report", 10, tmp_path / "s.parquet")


def test_failed_extract_leaves_previous_output(tmp_path):
    g = ArchGraph()
    g.add_node(PRIMITIVE_ID["input"], 0, "input", (), [])
    deepnets1m.write_split(tmp_path / "a.hdf5", tmp_path / "a.json", "x", [(g, {}), (g, {})])
    extract(tmp_path / "a.hdf5", tmp_path / "a.json", "x", tmp_path / "g", "report", 1)
    doc = json.loads((tmp_path / "a.json").read_text())
    doc["x"]["meta"]["primitives_ext"]["0"] = "mystery"
    (tmp_path / "a.json").write_text(json.dumps(doc))
    with pytest.raises(FormatError, match="mystery"):
        extract(tmp_path / "a.hdf5", tmp_path / "a.json", "x", tmp_path / "g", "report", 1)
    assert sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        "graphs-00000.parquet",
        "graphs-00001.parquet",
        "summary.json",
    ]
    assert not (tmp_path / "g.tmp").exists()
