"""The GPU check rehearsed on a CPU (`dry`): every command runs and reports what the GPU run will report."""

import os

import pytest
from helpers import ROOT, synthetic_params, with_archs

from benchmarks.gpu_check import (
    gpu_narformer_benchmark,
    gpu_narformer_markdown,
    gpu_train_benchmark,
    gpu_train_markdown,
)


@pytest.mark.integration  # torch.compile takes most of a minute on a CPU
def test_the_training_check_measures_eager_and_compiled(tmp_path):
    result = gpu_train_benchmark(synthetic_params(tmp_path), "dry")
    assert set(result["setups"]) == {"eager", "compiled"} and result["flops_per_graph"] > 0
    for setup in result["setups"].values():
        assert setup["graphs_per_second"] > 0 and setup["fraction_of_peak_bf16"] is None  # no peak for a CPU
    table = gpu_train_markdown(result)
    assert "| compiled |" in table and "A dry run" in table


def test_the_narformer_check_fits_both_sizes(tmp_path):
    result = gpu_narformer_benchmark(with_archs(tmp_path), "dry")
    assert [r["n_train"] for r in result["runs"]] == [20, 40] and {r["seed"] for r in result["runs"]} == {0}
    assert all(r["device"] == "cpu" for r in result["runs"])
    assert "| 40 |" in gpu_narformer_markdown(result)


def test_the_scripts_run_registered_benchmarks():
    for script, name in (("gpu_check.sh", "gpu-train"), ("gpu_narformer.sh", "gpu-narformer")):
        path = ROOT / "scripts" / script
        assert os.access(path, os.X_OK) and f"python -m benchmarks {name}" in path.read_text()
