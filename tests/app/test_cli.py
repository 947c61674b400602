import json
import shutil
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import ROOT, train_settings
from typer.testing import CliRunner

from tart.app.cli import app
from tart.training.checkpoint import save_checkpoint
from tart.training.train import fit

runner = CliRunner()
ALL_CONV_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
MODEL_FILE = """
from torch import nn

def small():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 10))

def not_a_module():
    return 42

class WithDeadBranch(nn.Module):  # the second convolution's result is never read
    def __init__(self):
        super().__init__()
        self.body, self.unused = small(), nn.Conv2d(3, 4, 1, bias=False)

    def forward(self, x):
        self.unused(x)
        return self.body(x)

def with_dead_branch():
    return WithDeadBranch()

class Raising(nn.Module):
    def forward(self, x):
        raise ValueError("no forward here")

def raising():
    return Raising()
"""


@pytest.fixture
def checkpoint(tmp_path):
    from helpers import CHANNELS, synthetic_tokens

    ts, y = synthetic_tokens(tmp_path)
    cfg = train_settings(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS),
                attention_bias="edges")  # fmt: skip
    model, _, facts = fit(cfg, ts, np.arange(40), y[:40], np.arange(40, 60), y[40:])
    path = tmp_path / "m.pt"
    save_checkpoint(model, facts, cfg.model_dump(), path)
    (tmp_path / "models.py").write_text(MODEL_FILE)
    return path


def test_predict_a_model_file(checkpoint):
    result = runner.invoke(app, ["predict", f"{checkpoint.parent}/models.py:small", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["num_nodes"] == out["live_nodes"] == 7 and out["checkpoint"] == str(checkpoint)
    assert np.isfinite(out["prediction"])


def test_predict_drops_nodes_that_do_not_reach_the_output(checkpoint):
    args = ["predict", f"{checkpoint.parent}/models.py:with_dead_branch", "--checkpoint", str(checkpoint)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["num_nodes"] == 8 and out["live_nodes"] == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{dir}/models.py:not_a_module"], "returned int, not a torch.nn.Module"),
        (["{dir}/missing.py:small"], "no such file"),
        (["{dir}/models.py:small", "--input-shape", "5,32,32"], "Sequential.forward raised RuntimeError on an input of "
                                                                 "shape (batch, 5, 32, 32)"),
        (["{dir}/models.py:raising"], "Raising.forward raised ValueError on an input of shape (batch, 3, 32, 32): "
                                      "no forward here"),
        (["--nb201", ALL_CONV_3X3], "handles at most"),
        (["--nb201", "|conv~0|"], "expected 3 nodes"),
    ],
)
def test_predict_bad_input_is_one_clear_error(checkpoint, args, message):
    args = [a.format(dir=checkpoint.parent) for a in args]
    result = runner.invoke(app, ["predict", *args, "--checkpoint", str(checkpoint)])
    assert result.exit_code != 0 and message in result.output


def test_help_everywhere():
    for command in ([], ["predict"], ["fetch"], ["info"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def _commit_metrics(repo, tau: float, ci: tuple[float, float]) -> None:
    from helpers import GIT

    (repo / "reports").mkdir(exist_ok=True)
    metrics = {"test_all": {"n": 10, "kendall_tau_b": tau, "kendall_tau_b_ci95": list(ci)}}
    (repo / "reports" / "metrics.json").write_text(json.dumps(metrics))
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", f"tau {tau}"], cwd=repo, check=True)


@pytest.fixture
def history(tmp_path, monkeypatch):
    """A git + DVC repository whose two commits hold a good and a clearly worse result."""
    from helpers import GIT, ROOT

    subprocess.run([*GIT, "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q"], cwd=tmp_path, check=True)
    shutil.copy(ROOT / "params.yaml", tmp_path)
    subprocess.run([*GIT, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "params only"], cwd=tmp_path, check=True)
    _commit_metrics(tmp_path, 0.76, (0.75, 0.77))
    _commit_metrics(tmp_path, 0.70, (0.69, 0.71))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_report_diff_between_commits(history):
    result = runner.invoke(app, ["report", "diff", "HEAD~1", "HEAD", "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("**Verdict: worse beyond noise**")
    assert "| test_all.kendall_tau_b | 0.7600 [0.7500, 0.7700] | 0.7000 [0.6900, 0.7100] | -0.0600 |" in result.output
    assert runner.invoke(app, ["report", "diff", "HEAD~1", "HEAD", "--fail-on-worse"]).exit_code == 2
    table = runner.invoke(app, ["report", "diff", "HEAD", "workspace"], env={"COLUMNS": "80"})
    assert table.exit_code == 0 and "identical" in table.output
    assert max(len(line) for line in table.output.splitlines()) <= 80
    assert "test_all.kendall_tau_b: identical" in table.output
    wide = runner.invoke(app, ["report", "diff", "HEAD~1", "HEAD"], env={"COLUMNS": "140"})
    assert wide.exit_code == 0 and "│ test_all.kendall_tau_b" in wide.output


def test_report_diff_bad_input(history):
    unknown = runner.invoke(app, ["report", "diff", "no-such-rev", "HEAD"])
    assert unknown.exit_code == 1 and "no-such-rev: not a revision" in unknown.output
    missing = runner.invoke(app, ["report", "diff", "HEAD~2", "HEAD"])
    assert missing.exit_code == 1 and "HEAD~2: no reports/metrics.json at that revision" in missing.output
    (history / "reports" / "metrics.json").unlink()
    assert "run `dvc repro` first" in runner.invoke(app, ["report", "diff"]).output
    assert runner.invoke(app, ["report", "diff", "--format", "xml"]).exit_code == 2


def test_generate_and_properties_commands(tmp_path):
    out = tmp_path / "gen"
    result = runner.invoke(app, ["generate", str(out), "--count", "5", "--shard-size", "2", "--workers", "1",
                                 "--merge", "--delete-shards", "--graphs", str(tmp_path / "graphs"), "--tokens",
                                 str(tmp_path / "tokens"), "--params", str(ROOT / "params.yaml")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{") :])["shards"] == 3
    shards = sorted((tmp_path / "tokens").glob("tokens-*.parquet"))  # extracted before the merge deleted the shards
    assert [pq.read_table(s)["net"].to_pylist() for s in shards] == [[0, 1], [2, 3], [4]]
    h5, meta = out / "deepnets1m_train.hdf5", out / "deepnets1m_train_meta.json"
    table = tmp_path / "props.parquet"
    result = runner.invoke(app, ["properties", str(h5), str(meta), str(table), "--limit", "2", "--no-latency",
                                 "--params", str(ROOT / "params.yaml")])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = pq.read_table(table).to_pylist()
    assert [r["net"] for r in rows] == [0, 1] and all(r["flops"] > 0 and r["latency_ms"] is None for r in rows)
    result = runner.invoke(app, ["generate", str(out), "--count", "5", "--seed", "9", "--params",
                                 str(ROOT / "params.yaml")])  # fmt: skip
    assert result.exit_code == 1 and "other settings" in result.output
    result = runner.invoke(app, ["generate", str(tmp_path / "other"), "--count", "2", "--delete-shards"])
    assert result.exit_code == 2 and "add --merge" in result.output
    result = runner.invoke(app, ["generate", str(tmp_path / "other"), "--count", "2", "--tokens", str(tmp_path)])
    assert result.exit_code == 2 and "add --graphs" in result.output
    assert not (tmp_path / "other").exists()


def test_settings_come_from_tart_params_or_fail_with_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no params.yaml here
    monkeypatch.delenv("TART_PARAMS", raising=False)
    result = runner.invoke(app, ["fetch"])
    assert result.exit_code == 2 and "params.yaml: no such params file" in result.output
    assert "Traceback" not in result.output
    monkeypatch.setenv("TART_PARAMS", str(tmp_path / "elsewhere.yaml"))  # a named params file must exist
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 2 and "elsewhere.yaml: no such params file" in result.output
    monkeypatch.setenv("TART_PARAMS", str(ROOT / "params.yaml"))
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
