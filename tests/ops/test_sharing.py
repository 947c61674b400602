"""Results without recomputation: push to a real local-directory DVC remote, pull into a fresh clone, fetch the
model as an artifact, and bring back the outputs a killed stage deleted."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import GIT, copy_workspace, run, workspace_env

pytestmark = pytest.mark.integration
DVC = [sys.executable, "-m", "dvc"]
TART = [str(Path(sys.executable).parent / "tart")]
UP_TO_DATE = "Data and pipelines are up to date."
SMALL_CELL = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


def test_push_then_pull_into_a_fresh_clone(tiny_workspace, mirror, tmp_path):
    origin = copy_workspace(tiny_workspace, tmp_path / "origin")
    env = workspace_env(origin, mirror)
    remote = tmp_path / "remote"
    # the documented workflow (docs/operations.md, "Sharing results")
    run([*DVC, "remote", "add", "-d", "shared", str(remote)], origin, env)
    run([*GIT, "add", ".dvc/config"], origin, env)
    run([*GIT, "commit", "-q", "-m", "a shared DVC remote"], origin, env)
    run([*GIT, "tag", "-a", "tart-nb201@v0.1.0", "-m", "the tiny model"], origin, env)
    run([*DVC, "push"], origin, env)
    assert any(remote.rglob("*")), "dvc push wrote nothing to the remote"

    fresh = tmp_path / "fresh"
    run([*GIT, "clone", "-q", str(origin), str(fresh)], tmp_path, env)
    assert not (fresh / "data" / "model").exists()
    run([*DVC, "pull"], fresh, env)
    model = fresh / "data" / "model" / "tart.pt"
    assert model.read_bytes() == (origin / "data" / "model" / "tart.pt").read_bytes()
    assert UP_TO_DATE in run([*DVC, "status"], fresh, env)
    assert "didn't change, skipping" in run([*DVC, "repro"], fresh, env)
    done = subprocess.run([*TART, "predict", "--nb201", SMALL_CELL], cwd=fresh, env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "data/model/tart.pt (pipeline checkpoint)" in done.stderr

    # the model alone, from the repository and its remote, without a clone
    got = tmp_path / "got"
    run([*DVC, "artifacts", "get", str(origin), "tart-nb201", "-o", str(got)], tmp_path, env)
    assert (got / "tart.pt").read_bytes() == model.read_bytes() and (got / "tart.pt.json").exists()


def test_restore_brings_back_what_a_killed_stage_deleted(tiny_workspace, mirror, tmp_path):
    work = copy_workspace(tiny_workspace, tmp_path / "work")
    env = workspace_env(work, mirror)
    model, curve = work / "data" / "model" / "tart.pt", work / "reports" / "plots" / "train_curve.csv"
    before = model.read_bytes(), curve.read_bytes()
    stage = subprocess.Popen([*DVC, "repro", "-f", "--single-item", "train"], cwd=work, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    # DVC removes a stage's outputs one after the other before running it: kill once both are gone, not between
    while (model.exists() or curve.exists()) and stage.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stage.poll() is None, "the stage ended before DVC removed its outputs"
    os.killpg(stage.pid, signal.SIGKILL)  # the stage and the flow it started
    stage.wait()
    assert not model.exists() and not curve.exists()
    # a kill while DVC rewrites its lock table leaves it empty (it happens by chance here): make it certain
    (work / ".dvc" / "tmp" / "rwlock").write_text("")

    out = run(TART + ["restore"], work, env)
    assert "restored from git: reports/plots/train_curve.csv" in out
    assert "removed .dvc/tmp/rwlock: unreadable, left by a killed DVC command" in out
    assert (model.read_bytes(), curve.read_bytes()) == before
    assert UP_TO_DATE in run([*DVC, "status"], work, env)
    assert "nothing to restore" in run(TART + ["restore"], work, env)
