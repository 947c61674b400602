"""End to end: `dvc repro` of the whole pipeline on a tiny profile (300 NB201 nets, 2 epochs)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

pytestmark = pytest.mark.integration


def tiny_params() -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["build"].update(limit=300, workers=1, chunk=50)
    params["extract"]["shard_size"] = 120
    params["split"].update(train_size=100, val_size=50)
    params["train"].update(epochs=2, d_model=32, d_ff=64, n_layers=1)
    params["evaluate"]["bootstrap"] = 20
    return params


def run(cmd: list[str], cwd: Path, env: dict) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_dvc_repro_tiny_profile(tmp_path, mirror):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("tart", "flows"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", work)
    (work / "data").mkdir()
    shutil.copy(ROOT / "data" / "manifest.tsv", work / "data")
    (work / "params.yaml").write_text(yaml.safe_dump(tiny_params()))
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TART_DATA_MIRROR": str(mirror),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "DVC_NO_ANALYTICS": "1",
    }
    dvc = [sys.executable, "-m", "dvc"]
    run([*dvc, "init", "--no-scm", "-q"], work, env)
    run([*dvc, "repro"], work, env)

    metrics = json.loads((work / "reports" / "metrics.json").read_text())
    assert metrics["test_all"]["n"] == 300 and metrics["test_remainder"]["n"] == 200
    assert -1 <= metrics["test_all"]["kendall_tau_b"] <= 1
    low, high = metrics["test_all"]["kendall_tau_b_ci95"]
    assert low <= metrics["test_all"]["kendall_tau_b"] <= high
    for figure in ("pred_vs_true.png", "training_curve.png", "nb201_graph.png"):
        assert (work / "reports" / "figures" / figure).stat().st_size > 1000
    assert "Kendall tau-b" in (work / "reports" / "results.md").read_text()
    assert (work / "reports" / "provenance" / "train.json").exists()
    checkpoint_meta = json.loads((work / "data" / "model" / "tart.pt.json").read_text())
    assert checkpoint_meta["vocab_hash"] and checkpoint_meta["params"]["epochs"] == 2
    # Nothing changed, so a second repro runs nothing.
    assert "didn't change" in run([*dvc, "repro"], work, env) or "up to date" in run([*dvc, "status"], work, env)

    from tart.benchmarks import token_bound

    bound = token_bound(work / "data" / "tokens", work / "data" / "build" / "labels.parquet",
                        "cifar10_valid_val_acc", "cifar10_test_acc")  # fmt: skip
    counts = [bound[k]["distinct_sequences"] for k in ("primitive", "primitive+shape", "primitive+shape+offsets")]
    assert counts == sorted(counts) and counts[-1] <= 300
