"""The function-input benchmark: every net read as its function-class representative, on synthetic tokens labelled
with real NB201 cells (the numbers themselves come from `python -m benchmarks function-input`)."""


import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import closed_cells, synthetic_params

from benchmarks.function_input import (
    function_input_benchmark,
    function_input_markdown,
    representative_nets,
    representative_tokens,
)
from tart.spaces.nb201.cell_function import representative_cells
from tart.spaces.nb201.network import arch_ops, arch_string


def test_every_net_maps_to_its_class_representative():
    archs = closed_cells(40)
    read_as = representative_nets(archs)
    reps = [arch_string(cell) for cell in representative_cells([arch_ops(a) for a in archs])]
    assert [archs[k] for k in read_as] == reps != archs  # some nets are read as another one
    assert all(read_as[k] == k for k in read_as)  # a representative reads as itself


def test_a_missing_representative_is_one_clear_error():
    archs = closed_cells(40)
    outsider = next(k for k, r in enumerate(representative_nets(archs)) if r != k)
    rest = [a for k, a in enumerate(archs) if k != representative_nets(archs)[outsider]]
    with pytest.raises(ValueError, match="representative .* is not among the nets"):
        representative_nets(rest)


def test_representative_tokens_copy_the_representatives_rows(tmp_path):
    synthetic_params(tmp_path / "in")
    read_as = np.arange(60)
    read_as[[3, 7]] = [5, 5]
    representative_tokens(tmp_path / "in", read_as, tmp_path / "out")
    before = pq.read_table(tmp_path / "in" / "tokens-00000.parquet").to_pylist()
    after = pq.read_table(tmp_path / "out" / "tokens-00000.parquet").to_pylist()
    assert [r["net"] for r in after] == list(range(60))
    assert after[3]["tokens"] == after[7]["tokens"] == before[5]["tokens"] != before[3]["tokens"]
    assert after[4] == before[4]
    assert (tmp_path / "out" / "vocab.json").read_text() == (tmp_path / "in" / "vocab.json").read_text()


def test_benchmark_pairs_each_seed_with_the_file_input_fits(tmp_path):
    p = synthetic_params(tmp_path)
    labels = pq.read_table(p.paths.labels)
    pq.write_table(labels.append_column("arch", pa.array(closed_cells(labels.num_rows))), p.paths.labels)
    result = function_input_benchmark(p, [30], [0, 1], workers=1, grid_report=tmp_path / "none.json")
    assert {(r["seed"], r["input"], r["from"]) for r in result["runs"]} == {
        (s, i, "this benchmark") for s in (0, 1) for i in ("file", "file_function", "function_input")}  # fmt: skip
    entry = result["summary"]["30"]
    assert len(entry["gain_over_file"]) == len(entry["gain_over_file_function"]) == 2
    assert entry["ensemble_file_function"] is None and entry["ensemble_function_input"] is not None
    assert result["distinct_sequences"]["function_input"] <= result["function_classes"] < 60
    assert "| 30 |" in function_input_markdown(result)
