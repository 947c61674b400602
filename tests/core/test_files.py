"""The one way outputs are written: complete or absent, never half-written; tables in their declared schema."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tart.core import files, schemas


def test_a_failed_write_leaves_neither_the_file_nor_its_temporary(tmp_path):
    target = tmp_path / "out" / "report.json"
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert not target.exists() and list((tmp_path / "out").iterdir()) == []


def test_a_failed_write_keeps_the_previous_version(tmp_path):
    target = tmp_path / "report.json"
    files.write_json({"v": 1}, target)
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert json.loads(target.read_text()) == {"v": 1}


def test_tables_are_cast_to_their_schema_and_a_wrong_column_fails(tmp_path):
    table = pa.table({"net": [2, 1], "role": ["train", "val"]})
    files.write_table(table, tmp_path / "split.parquet", schemas.SPLIT)
    assert pq.read_schema(tmp_path / "split.parquet").equals(schemas.SPLIT)
    with pytest.raises(pa.ArrowInvalid):
        files.write_table(pa.table({"net": ["x"], "role": ["train"]}), tmp_path / "bad.parquet", schemas.SPLIT)
    assert not (tmp_path / "bad.parquet").exists()


def test_an_atomic_directory_appears_only_when_complete(tmp_path):
    out = tmp_path / "shards"
    with files.atomic_dir(out) as tmp:
        (tmp / "a.parquet").write_text("a")
    assert [p.name for p in out.iterdir()] == ["a.parquet"]
    with pytest.raises(KeyError), files.atomic_dir(out) as tmp:
        (tmp / "b.parquet").write_text("b")
        raise KeyError
    assert [p.name for p in out.iterdir()] == ["a.parquet"] and not (tmp_path / "shards.tmp").exists()


def test_schemas_pin_their_columns():
    # changing a schema changes every stage output that uses it: do it on purpose (and bump what reads it)
    assert schemas.SPLIT.names == ["net", "role"]
    assert schemas.PREDICTIONS.names == ["net", "role", "prediction", "target"]
    assert schemas.PREDICTIONS.field("prediction").type == pa.float64()
    assert schemas.TOKENS.names == ["net", "split", "length", "tokens", "shape_tokens", "cells", "cell_tokens",
                                    "near_tokens", "far_tokens", "edge_src", "edge_dst"]  # fmt: skip
    assert schemas.PROXY_SCORES.names == ["net", "arch", "synflow", "snip", "grad_norm", "jacob_cov", "naswot",
                                          "seconds"]  # fmt: skip
