"""The dask-scaling benchmark at a few hundred nets (its numbers come from `python -m benchmarks dask-scaling`)."""

import json

import pytest

pytest.importorskip("distributed")

import benchmarks.dask_scaling as dask_scaling  # noqa: E402
from benchmarks.dask_scaling import dask_scaling_benchmark, dask_scaling_markdown, parse_runs  # noqa: E402


@pytest.mark.integration  # three LocalClusters, ~20 s on two cores: CI's integration run
def test_generated_nets_run_end_to_end_on_one_and_two_workers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the benchmark works in a temporary directory under the working directory
    result = dask_scaling_benchmark([(60, 1), (60, 2), (30, 2)])
    one, two, small = result["runs"]
    assert (one["workers"], two["workers"]) == (1, 2) and one["nets"] == two["nets"] == 60 and small["nets"] == 30
    assert [(s["nets"], s["from_workers"], s["to_workers"]) for s in result["speedups"]] == [(60, 1, 2)]
    assert result["projected_from"] == {"nets": 60, "workers": 2}
    for run in result["runs"]:
        assert set(run["seconds"]) == {"generate", "extract", "tokenize"} and run["shards"] >= run["workers"]
        assert len(run["worker_peak_rss_gb"]) == run["workers"] and min(run["worker_peak_rss_gb"]) > 0
        assert run["total_seconds"] == pytest.approx(sum(run["seconds"].values()), abs=0.3)
    eight = result["projection"][0]
    rounds = -(-two["shards"] // 8)  # more workers than shards: one round, no faster than one shard
    assert eight["workers"] == 8 and eight["seconds"] == pytest.approx(
        rounds * two["total_seconds"] * 2 / two["shards"], abs=0.1)
    markdown = dask_scaling_markdown(result)
    assert f"| 60 | {two['shards']} | 2 |" in markdown and "60 nets, 1 -> 2 workers" in markdown
    assert not dask_scaling.FINISHED_RUNS.exists() and not list(tmp_path.glob("tmp*"))  # nothing left behind

    # an interrupted plan: the runs it finished are kept and not redone
    dask_scaling.FINISHED_RUNS.write_text(json.dumps([one]))

    def must_not_run(*args):
        raise AssertionError("a finished run was redone")

    monkeypatch.setattr(dask_scaling, "end_to_end", must_not_run)
    assert dask_scaling_benchmark([(60, 1)])["runs"] == [one]


def test_runs_are_read_as_nets_by_workers():
    assert parse_runs("100000x1, 1000000x2") == [(100_000, 1), (1_000_000, 2)]
    for bad in ("1000000", "0x2", "10x", "tenx2"):
        with pytest.raises(ValueError, match="expected NETSxWORKERS"):
            parse_runs(bad)
