"""Resumable training: a fit stopped mid-way continues from its last saved epoch and ends with the same weights as
an uninterrupted one; state files resume only the fit they were written for."""

import os
import signal
import subprocess
import sys
import time
from functools import partial

import numpy as np
import pytest
import torch
import yaml
from helpers import copy_workspace, fit_config, run, synthetic_tokens, train_settings, workspace_env

import tart.training.train as train_module
from tart.models.narformer import NarFormerConfig, NarFormerModel
from tart.spaces.nb201.network import all_arch_ops, arch_string
from tart.training.cell_models import CellData, fit_cell_model
from tart.training.resume import StateFile, clear_stage, fit_key, resumable_fit
from tart.training.train import fit

DVC = [sys.executable, "-m", "dvc"]
SMALL = NarFormerConfig(n_freq=4, n_layers=1, n_heads=2, d_ff=16, dropout=0.2)  # dropout: the RNG matters


class Crash(Exception):
    pass


class CrashingModel(NarFormerModel):
    """Raises on its `crash_at`-th forward call, as if the process had been killed there."""

    calls = 0
    crash_at = 0

    def forward(self, ops, adj):
        CrashingModel.calls += 1
        if CrashingModel.calls == CrashingModel.crash_at:
            raise Crash
        return super().forward(ops, adj)


def cell_problem():
    archs = [arch_string(ops) for ops in all_arch_ops()[::97]]  # 162 cells
    data = CellData.from_archs(archs)
    y = np.linspace(0.3, 0.9, len(archs)) + np.random.default_rng(0).normal(0, 0.05, len(archs))
    return data, y, np.arange(120), np.arange(120, 162)


def test_a_stopped_cell_model_fit_resumes_to_the_same_weights(tmp_path, capsys):
    data, y, rows, val = cell_problem()
    cfg = fit_config(epochs=6, batch_size=32, eval_every=2, threads=1, device="cpu")
    whole, whole_curves, _ = fit_cell_model(cfg, partial(NarFormerModel, SMALL), data, rows, y[rows], val, y[val])

    state = StateFile(tmp_path / "fit.pt", "key")
    CrashingModel.calls, CrashingModel.crash_at = 0, 2 * 4 * 3 + 3  # two forwards per batch, 4 batches: epoch 4
    with pytest.raises(Crash):
        fit_cell_model(cfg, partial(CrashingModel, SMALL), data, rows, y[rows], val, y[val], state_file=state)
    assert torch.load(state.path, weights_only=False)["epoch"] == 3

    resumed, curves, _ = fit_cell_model(cfg, partial(NarFormerModel, SMALL), data, rows, y[rows], val, y[val],
                                        state_file=state)  # fmt: skip
    assert "resuming after epoch 3 of 6" in capsys.readouterr().err
    assert curves == whole_curves
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name


def test_a_stopped_tart_fit_resumes_to_the_same_weights(tmp_path, monkeypatch):
    ts, labels = synthetic_tokens(tmp_path, n=60)
    cfg = train_settings(epochs=5, d_model=16, d_ff=32, n_layers=1, n_heads=2, batch_size=8, threads=1, ema=0.9,
                         channels=list(ts.channels), device="cpu")  # fmt: skip
    args = (cfg, ts, np.arange(40), labels[:40], np.arange(40, 60), labels[40:])
    whole, whole_curves, _ = fit(*args)

    state = StateFile(tmp_path / "state" / "train.pt", fit_key(*args))
    validations = {"n": 0}
    real_predict = train_module.predict

    def predict_then_crash(*a, **k):
        validations["n"] += 1
        if validations["n"] == 3:  # the third epoch's validation: epochs 1 and 2 are saved
            raise Crash
        return real_predict(*a, **k)

    monkeypatch.setattr(train_module, "predict", predict_then_crash)
    with pytest.raises(Crash):
        fit(*args, state_file=state)
    monkeypatch.setattr(train_module, "predict", real_predict)
    resumed, curves, _ = fit(*args, state_file=state)
    assert curves == whole_curves
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name


def test_state_of_another_fit_starts_over(tmp_path, capsys):
    path = tmp_path / "fit.pt"
    StateFile(path, "old recipe").save({"epoch": 3})
    assert StateFile(path, "new recipe").load() is None
    assert "written for other settings, data or code; starting this fit over" in capsys.readouterr().err
    assert StateFile(path, "old recipe").load()["epoch"] == 3


def test_unreadable_state_is_one_clear_error(tmp_path):
    path = tmp_path / "fit.pt"
    path.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match=r"fit.pt: unreadable training state .* delete it to start this fit over"):
        StateFile(path, "key").load()


def test_keys_change_with_settings_and_data():
    base = fit_key({"lr": 1e-3}, np.arange(5))
    assert base == fit_key({"lr": 1e-3}, np.arange(5))
    assert base != fit_key({"lr": 2e-3}, np.arange(5))
    assert base != fit_key({"lr": 1e-3}, np.arange(1, 6))


def test_a_grid_keeps_finished_fits_until_the_stage_ends(tmp_path):
    calls = []

    def fit_once(state_file):
        calls.append(state_file.path.name)
        return {"tau": 0.5}

    assert resumable_fit(tmp_path / "grid", "a", "k", fit_once) == {"tau": 0.5}
    assert resumable_fit(tmp_path / "grid", "a", "k", fit_once) == {"tau": 0.5}  # the rerun after a kill
    assert calls == ["a.pt"]
    assert resumable_fit(tmp_path / "grid", "a", "other settings", fit_once) == {"tau": 0.5}
    assert len(calls) == 2
    clear_stage(tmp_path / "grid")
    assert not (tmp_path / "grid").exists()
    assert resumable_fit(None, "a", "k", lambda state_file: state_file) is None  # no directory: nothing kept


@pytest.mark.integration
def test_train_stage_killed_mid_fit_resumes_to_the_same_checkpoint(tiny_workspace, mirror, tmp_path):
    """`kill -9` of `dvc repro train` mid-fit; the rerun continues from the saved epoch and writes the checkpoint
    an uninterrupted run writes, byte for byte."""
    work = copy_workspace(tiny_workspace, tmp_path / "work")
    env = workspace_env(work, mirror)
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["train"]["epochs"] = 40  # long enough to stop part-way (the tiny profile trains 2)
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    model, state = work / "data" / "model" / "tart.pt", work / "data" / "resume" / "train" / "train.pt"
    run([*DVC, "repro", "--single-item", "train"], work, env)
    uninterrupted = model.read_bytes()
    assert not state.parent.exists(), "the stage removes its training state once the checkpoint is written"

    stage = subprocess.Popen([*DVC, "repro", "-f", "--single-item", "train"], cwd=work, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 300
    while stage.poll() is None and time.monotonic() < deadline and saved_epoch(state) < 5:
        time.sleep(0.02)
    assert stage.poll() is None, "the stage ended before it could be killed mid-fit"
    os.killpg(stage.pid, signal.SIGKILL)  # the stage and the flow it started
    stage.wait()
    killed_at = saved_epoch(state)
    assert 5 <= killed_at < 40 and not model.exists()

    # the same forced run again: without -f, DVC would check the first run's outputs out of its cache instead
    done = subprocess.run([*DVC, "repro", "-f", "--single-item", "train"], cwd=work, env=env, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"resuming after epoch {killed_at} of 40" in done.stdout + done.stderr
    assert model.read_bytes() == uninterrupted
    assert not state.parent.exists()


def saved_epoch(state) -> int:
    try:
        return torch.load(state, weights_only=False)["epoch"]
    except (OSError, EOFError, RuntimeError):  # not written yet, or replaced while being read
        return 0
