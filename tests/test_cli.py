import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tart.cli import app
from tart.params import Train
from tart.train import fit, save_checkpoint

runner = CliRunner()
MODEL_FILE = """
from torch import nn

def small():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 10))

def not_a_module():
    return 42
"""


@pytest.fixture
def checkpoint(tmp_path):
    from test_train import CHANNELS, synthetic_tokens

    ts, y = synthetic_tokens(tmp_path)
    cfg = Train(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS),
                attention_bias="edges")  # fmt: skip
    model, _, facts = fit(cfg, ts, np.arange(40), y[:40], np.arange(40, 60), y[40:])
    path = tmp_path / "m.pt"
    save_checkpoint(model, facts, cfg.model_dump(), path)
    (tmp_path / "models.py").write_text(MODEL_FILE)
    return path


def test_predict_a_model_file(checkpoint):
    result = runner.invoke(app, ["predict", f"{checkpoint.parent}/models.py:small", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["num_nodes"] == 7 and out["checkpoint"] == str(checkpoint) and np.isfinite(out["prediction"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{dir}/models.py:not_a_module"], "returned int, not a torch.nn.Module"),
        (["{dir}/missing.py:small"], "no such file"),
        (["{dir}/models.py:small", "--input-shape", "5,32,32"], "does not accept an input of shape"),
        (["--nb201", "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"], "handles at most"),
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
