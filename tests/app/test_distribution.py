import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from helpers import ROOT, train_settings
from torch import nn
from typer.testing import CliRunner

from tart.app.checkpoints import PACKAGED_DIR, choose, packaged_checkpoint, training_profile
from tart.app.cli import app
from tart.app.distribution import FAR, assess, profile
from tart.graphs.from_module import module_to_graph
from tart.graphs.graph import graph_row
from tart.io.fetch import sha256_of
from tart.spaces.nb201.network import GraphComposer, all_arch_ops, arch_string
from tart.tokens.token_set import token_set
from tart.tokens.tokenize import tokenize_table, vocab_hash, vocabulary
from tart.training.checkpoint import card_path, read_card
from tart.training.train import fit

runner = CliRunner()
CHANNELS = ("tokens", "shape_tokens", "near_tokens", "far_tokens")
ARCHS = [arch_string(ops) for ops in all_arch_ops()[::701]]
ALL_CONV_3X3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
VIT_FILE = """
from torch import nn

class TinyViT(nn.Module):
    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.patches = nn.Conv2d(3, dim, 4, stride=4)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patches(x).flatten(2).transpose(1, 2)
        h = self.norm1(x)
        x = x + self.attention(h, h, h)[0]
        x = x + self.mlp(self.norm2(x))
        return self.head(x.mean(1))

def vit():
    return TinyViT()
"""


def token_table(graphs) -> pa.Table:
    rows = [graph_row(g, k, "test") for k, g in enumerate(graphs)]
    return tokenize_table(pa.Table.from_pylist(rows), vocabulary())


def vit_module() -> nn.Module:
    scope: dict = {}
    exec(VIT_FILE, scope)
    return scope["vit"]()


@pytest.fixture(scope="module")
def small_model():
    """A tiny model fit on 16 NB201 cells, and the token set of all 23 cells."""
    composer = GraphComposer()
    ts = token_set(token_table([composer.graph(a)[0] for a in ARCHS]), CHANNELS, vocabulary())
    y = np.array([a.count("nor_conv_3x3") for a in ARCHS], dtype=float)
    cfg = train_settings(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS),
                         attention_bias="edges")  # fmt: skip
    model, _, _ = fit(cfg, ts, np.arange(16), y[:16], np.arange(16, 23), y[16:])
    return model, ts


def test_training_nets_sit_inside_their_own_profile(small_model):
    model, ts = small_model
    found = profile(model, ts, np.arange(16))
    assert found.embeddings.shape == (16, 16) and found.reach > 0
    inside = assess(found, model, ts)
    assert np.all(inside.distance[:16] < 1e-4)  # each training net is its own nearest neighbour
    assert np.all(inside.unseen_tokens[:16] == 0) and not inside.outside_length[:16].any()
    assert not inside.outside[:16].any()
    # some held-out cells hold tokens none of the 16 training cells has: counted per token position
    unseen = inside.unseen_tokens[16:]
    assert inside.outside[16:][unseen > 0].all() and (unseen > 0).any()


def test_a_vit_carries_tokens_nb201_never_has(small_model):
    model, ts = small_model
    found = profile(model, ts, np.arange(16))
    vit = token_set(token_table([module_to_graph(vit_module(), (3, 32, 32))]), CHANNELS, vocabulary())
    result = assess(found, model, vit)
    assert result.unseen_tokens[0] > 0 and result.outside[0]


def test_profile_needs_two_distinct_nets(small_model):
    model, ts = small_model
    with pytest.raises(ValueError, match="at least two"):
        profile(model, ts, np.arange(1))


def test_the_package_ships_a_checkpoint_this_code_can_read():
    shipped = packaged_checkpoint()
    card = read_card(shipped)
    assert card["vocab_hash"] == vocab_hash(vocabulary())
    assert card["weights_sha256"] == sha256_of(shipped)
    assert card["training"]["label"] == card["params"]["target"] and card["training"]["nets"] > 0
    assert {"test_all", "test_remainder", "test_label"} <= set(card["scores"])
    sizes = sum(f.stat().st_size for f in PACKAGED_DIR.iterdir())
    assert sizes < 3 * 2**20, f"the shipped checkpoint takes {sizes:,} bytes"
    known = training_profile(shipped)
    assert known.embeddings.shape == (card["training"]["nets"], card["model"]["d_model"])
    # calibration measured by the package stage on the NB201 nets the model never saw
    assert card["profile"]["outside_share_of_untrained_nets"] <= 0.05


def test_predict_outside_a_workspace_uses_the_shipped_checkpoint(tmp_path):
    (tmp_path / "nets.py").write_text(VIT_FILE)
    env = {k: v for k, v in os.environ.items() if k != "TART_PARAMS"}
    done = subprocess.run([str(Path(sys.executable).parent / "tart"), "predict", "nets.py:vit"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["checkpoint"] == str(packaged_checkpoint())
    assert out["distribution"]["outside"] and out["distribution"]["unseen_tokens"] > 0
    assert "packaged checkpoint" in done.stderr
    assert "warning: outside the checkpoint's training distribution" in done.stderr


def test_an_nb201_net_has_no_unseen_tokens(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TART_PARAMS", raising=False)
    result = runner.invoke(app, ["predict", "--nb201", ALL_CONV_3X3])
    assert result.exit_code == 0, result.output
    distribution = json.loads(result.stdout)["distribution"]
    assert distribution["unseen_tokens"] == 0 and distribution["distance"] < 2 * FAR
    (tmp_path / "archs.txt").write_text("\n".join(ARCHS[:3]) + "\n")
    result = runner.invoke(app, ["screen", "archs.txt", "ranked.parquet", "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "packaged checkpoint" in result.stderr and (tmp_path / "ranked.parquet").exists()
    result = runner.invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["checkpoint_source"] == "packaged" and "raw_files" not in info


def test_inside_a_workspace_the_pipeline_checkpoint_wins(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TART_PARAMS", raising=False)
    shutil.copy(ROOT / "params.yaml", tmp_path)
    model = tmp_path / "data" / "model" / "tart.pt"
    model.parent.mkdir(parents=True)
    shutil.copy(packaged_checkpoint(), model)
    card = read_card(packaged_checkpoint())
    for key in ("profile", "weights_sha256", "training", "scores", "code_commit"):  # as the train stage writes it
        card.pop(key)
    card_path(model).write_text(json.dumps(card))
    chosen = choose(None, None)
    assert chosen.source == "pipeline" and chosen.path == Path("data/model/tart.pt")
    # the same bytes as the shipped weights: the shipped profile applies
    assert training_profile(chosen.path) is not None
    result = runner.invoke(app, ["predict", "--nb201", ALL_CONV_3X3])
    assert result.exit_code == 0 and "pipeline checkpoint" in result.stderr
    assert json.loads(result.stdout)["distribution"] is not None
    # other weights: no profile, and the output says so
    model.write_bytes(model.read_bytes() + b"\0")
    assert training_profile(chosen.path) is None
