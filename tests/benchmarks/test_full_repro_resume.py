"""The full-rebuild benchmark survives an interruption: a `dvc repro` stand-in is killed part-way through a stage,
the next call continues in the same clone, and the cut-off stage's seconds before and after add up."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import GIT, ROOT

from benchmarks.full_repro import ReproError, add_timings, measure, timed_repro

FIRST = """
import sys, time
print("Running stage 'fetch':", flush=True)
time.sleep(0.3)
print("Running stage 'train':", flush=True)
for _ in range(600):
    print("epoch", flush=True)
    time.sleep(0.1)
"""
SECOND = """
print("Stage 'fetch' didn't change, skipping", flush=True)
print("Running stage 'train':", flush=True)
print("Running stage 'figures':", flush=True)
"""


def dvc_repo(path):
    path.mkdir()
    subprocess.run([*GIT, "init", "-q"], cwd=path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=path, check=True)
    subprocess.run([*GIT, "commit", "-qm", "dvc"], cwd=path, check=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True).stdout.strip()


def test_stage_seconds_are_read_from_the_output_as_it_comes(tmp_path):
    seen = []
    script = ("print(\"Running stage 'a':\", flush=True)\nimport time; time.sleep(0.2)\n"
              "print(\"Stage 'b' didn't change, skipping\")")
    timing = timed_repro(tmp_path, dict(os.environ), seen.append, [sys.executable, "-c", script])
    assert set(timing["stages"]) == {"a"} and 0.2 <= timing["stages"]["a"] <= timing["total_seconds"]
    assert seen[0]["stages"] == {"a": 0.0} and seen[-1]["stages"]["a"] >= 0.2  # saved at each stage boundary
    with pytest.raises(ReproError, match="exit 3"):
        timed_repro(tmp_path, dict(os.environ), None, [sys.executable, "-c", "raise SystemExit(3)"])


def test_a_stage_cut_off_part_way_adds_its_seconds_before_and_after():
    before = {"stages": {"fetch": 1.0, "train": 5.0}, "total_seconds": 6.5}
    after = {"stages": {"train": 3.0, "figures": 2.0}, "total_seconds": 5.5}
    assert add_timings(before, after) == {"stages": {"fetch": 1.0, "train": 8.0, "figures": 2.0},
                                          "total_seconds": 12.0}  # fmt: skip


def test_a_killed_rebuild_continues_in_its_clone(tmp_path):
    repo, run_dir = tmp_path / "repo", tmp_path / "state" / "run"
    commit = dvc_repo(repo)
    first = (f"import sys; sys.path[:0] = {[str(ROOT), str(ROOT / 'tests')]!r}\n"
             "from pathlib import Path\nimport os\nimport benchmarks.full_repro as fr\nfr.SAVE_EVERY_S = 0.2\n"
             f"fr.measure(Path({str(repo)!r}), 'HEAD', {commit!r}, Path({str(run_dir)!r}), None, dict(os.environ), "
             f"[{sys.executable!r}, '-c', {FIRST!r}])\n")  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-c", first], start_new_session=True)
    progress = run_dir / "progress.json"
    deadline = time.time() + 60
    while time.time() < deadline:  # until the stand-in has spent over a second in 'train'
        if progress.exists() and json.loads(progress.read_text())["timing"]["stages"].get("train", 0) > 1.0:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    cut = json.loads(progress.read_text())
    assert not cut["done"] and cut["commands"] == 1 and (run_dir / "repo" / ".dvc").is_dir()

    run = measure(repo, "HEAD", commit, run_dir, None, dict(os.environ), [sys.executable, "-c", SECOND])
    assert run["repro_commands"] == 2 and set(run["stages"]) == {"fetch", "train", "figures"}
    assert run["stages"]["fetch"] == cut["timing"]["stages"]["fetch"]  # skipped the second time: kept as measured
    assert run["stages"]["train"] >= cut["timing"]["stages"]["train"] > 1.0  # before the kill + after
    assert run["total_seconds"] >= cut["timing"]["total_seconds"]
    assert not (run_dir / "repo").exists() and not (run_dir / "cache").exists()  # the GBs go, the timings stay
    assert measure(repo, "HEAD", commit, run_dir, None, dict(os.environ), ["false"]) == run  # not measured again


def test_timings_without_their_clone_are_one_clear_error(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "progress.json").write_text(json.dumps({"commit": "c", "commands": 1, "done": False,
                                                       "timing": {"stages": {}, "total_seconds": 0.0}}))  # fmt: skip
    with pytest.raises(ReproError, match="not its clone; delete"):
        measure(tmp_path, "HEAD", "c" * 40, run_dir, None, dict(os.environ))
