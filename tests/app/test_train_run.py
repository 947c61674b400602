"""`tart train`: the train and evaluate stages' work without Prefect or DVC, and the imports a machine without
them (a lent GPU) needs."""

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from helpers import synthetic_params, train_settings
from typer.testing import CliRunner

from tart.app.cli import app
from tart.app.train_run import RunError, train_and_evaluate, with_settings
from tart.core import schemas

# What a lent GPU machine lacks (its image has torch, pyarrow, h5py, networkx, scipy, typer, ...; pydantic travels
# as wheels, README "Training without the pipeline").
ABSENT_ON_GPU_MACHINE = ("prefect", "dvc", "polars", "pooch", "ijson", "pydot", "sklearn")


def small_pipeline(tmp_path):
    p = synthetic_params(tmp_path)
    roles = ["train"] * 40 + ["val"] * 10 + ["rest"] * 10
    pq.write_table(pa.table({"net": pa.array(np.arange(60), pa.int32()), "role": roles}), tmp_path / "split.parquet")
    paths = p.paths.model_copy(update={"split": tmp_path / "split.parquet"})
    return p.model_copy(update={"paths": paths, "evaluate": p.evaluate.model_copy(update={"bootstrap": 10})})


def test_settings_are_validated_like_params_yaml():
    base = train_settings()
    cfg = with_settings(base, ["device=cuda", "train.precision=bf16", "batch_size=256", "channels=[tokens]"])
    assert (cfg.device, cfg.precision, cfg.batch_size, cfg.channels) == ("cuda", "bf16", 256, ["tokens"])
    with pytest.raises(RunError, match="expected KEY=VALUE"):
        with_settings(base, ["bf16"])
    with pytest.raises(RunError, match="precision"):
        with_settings(base, ["precision=fp8"])
    with pytest.raises(RunError, match="learning_rate"):
        with_settings(base, ["learning_rate=0.1"])  # unknown keys are errors, as in params.yaml


def test_train_and_evaluate_writes_everything_into_a_new_directory(tmp_path):
    p = small_pipeline(tmp_path)
    out = tmp_path / "run"
    result = train_and_evaluate(p, with_settings(p.train, ["epochs=2"]), out)
    assert sorted(f.name for f in out.iterdir()) == [
        "metrics.json", "predictions.parquet", "tart.pt", "tart.pt.json", "train_curve.csv"]  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics == result["metrics"] and metrics["test_all"]["n"] == 60 and metrics["test_remainder"]["n"] == 20
    assert len((out / "train_curve.csv").read_text().splitlines()) == 3
    assert pq.read_table(out / "predictions.parquet").schema.equals(schemas.PREDICTIONS)
    with pytest.raises(RunError, match="not empty"):
        train_and_evaluate(p, p.train, out)


def test_missing_inputs_name_the_stage_that_makes_them(tmp_path):
    p = small_pipeline(tmp_path)
    p = p.model_copy(update={"paths": p.paths.model_copy(update={"split": tmp_path / "nope.parquet"})})
    with pytest.raises(RunError, match=r"nope.parquet: not found; run `dvc repro split`"):
        train_and_evaluate(p, p.train, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_command_line(tmp_path):
    p = small_pipeline(tmp_path)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(p.model_dump(mode="json")))
    runner = CliRunner()
    done = runner.invoke(app, ["train", str(tmp_path / "run"), "--set", "epochs=1", "--params", str(params)])
    assert done.exit_code == 0, done.output
    assert "scoring every net" in done.output and "best validation tau-b" in done.output
    assert "over all 60 nets" in done.output
    bad = runner.invoke(app, ["train", str(tmp_path / "other"), "--set", "epochs", "--params", str(params)])
    assert bad.exit_code == 1 and "expected KEY=VALUE" in bad.output and not (tmp_path / "other").exists()


def test_training_needs_none_of_what_a_gpu_machine_lacks():
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in ABSENT_ON_GPU_MACHINE)
    imports = "import benchmarks.throughput, benchmarks.gpu_check, tart.spaces.darts.properties, tart.app.train_run"
    run_cli = "sys.argv = ['tart', 'train', '--help']; runpy.run_module('tart', run_name='__main__')"
    code = f"import runpy, sys; {blocked}; {imports}; {run_cli}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Usage: tart train" in done.stdout
