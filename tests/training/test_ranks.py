"""Training under torchrun: each rank's share of an epoch, and a two-process DDP run on the tiny profile that
reaches a single process's quality (within the spread over seeds) with rank 0 alone writing."""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from helpers import copy_workspace, workspace_env

from tart.training.ranks import Ranks, ranks_from_env


def test_ranks_share_each_epoch_once_and_take_equal_steps():
    batches = list(range(10))
    shares = [Ranks(rank, 3).shard(batches) for rank in range(3)]
    assert shares == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]  # batch 9 left out: every rank takes 3 steps
    assert Ranks(0, 3).steps_per_epoch(10) == 3
    assert Ranks().shard(batches) == batches and Ranks().writes and not Ranks(1, 2).writes


def test_rank_comes_from_torchruns_environment(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert ranks_from_env() == Ranks(1, 2)
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match="RANK=2 with WORLD_SIZE=2"):
        ranks_from_env()


@pytest.mark.integration
def test_two_cpu_processes_under_torchrun_match_one_process(tiny_workspace, mirror, tmp_path):
    work = copy_workspace(tiny_workspace, tmp_path / "work")
    env = workspace_env(work, mirror)
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["train"].update(epochs=30, threads=1)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    def tau(out: str) -> float:
        return json.loads((work / out / "metrics.json").read_text())["test_all"]["kendall_tau_b"]

    singles = []
    for seed in (0, 1, 2):
        done = subprocess.run([sys.executable, "-m", "tart", "train", f"single{seed}", "--set", f"seed={seed}"],
                              cwd=work, env=env, capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        singles.append(tau(f"single{seed}"))
    # two ranks of half the batch: the effective batch, and so the number of updates, of the one-process runs
    half = params["train"]["batch_size"] // 2
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           "-m", "tart", "train", "ddp", "--set", f"batch_size={half}"], cwd=work, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("Kendall tau-b against") == 1  # rank 0 reports, rank 1 stays quiet
    card = json.loads((work / "ddp" / "tart.pt.json").read_text())
    assert card["world_size"] == 2
    spread = max(np.std(singles), 0.01)
    assert abs(tau("ddp") - np.mean(singles)) <= 3 * spread, (tau("ddp"), singles)
