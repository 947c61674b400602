"""The dask-scaling benchmark at a few hundred nets (its numbers come from `python -m benchmarks dask-scaling`)."""

import pytest

pytest.importorskip("distributed")

from benchmarks.dask_scaling import dask_scaling_benchmark, dask_scaling_markdown  # noqa: E402


def test_generated_nets_run_end_to_end_on_one_and_two_workers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the benchmark works in a temporary directory under the working directory
    result = dask_scaling_benchmark(nets=60, worker_counts=(1, 2))
    one, two = result["runs"]
    assert (one["workers"], two["workers"]) == (1, 2) and one["nets"] == two["nets"] == 60
    for run in result["runs"]:
        assert set(run["seconds"]) == {"generate", "merge", "extract", "tokenize"}
        assert len(run["worker_peak_rss_gb"]) == run["workers"] and min(run["worker_peak_rss_gb"]) > 0
        assert run["total_seconds"] == pytest.approx(sum(run["seconds"].values()), abs=0.3)
    parallel = sum(two["seconds"][p] for p in ("generate", "extract", "tokenize"))
    eight = result["projection"][0]
    assert eight["seconds"] == pytest.approx(parallel * 2 / 8 + two["seconds"]["merge"], abs=0.2)
    assert "| 2 |" in dask_scaling_markdown(result)
