import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from helpers import CHANNELS, synthetic_tokens, train_settings
from scipy import stats

from tart.tokens.token_set import load_tokens
from tart.training.checkpoint import load_checkpoint, save_checkpoint
from tart.training.losses import pairwise_rank_loss
from tart.training.train import fit, predict, predict_heads, predict_with_pooled, train_from_files


def test_training_is_deterministic_and_learns(tmp_path):
    ts, y = synthetic_tokens(tmp_path)
    cfg = train_settings(epochs=15, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, lr=3e-3,
                         channels=list(CHANNELS))
    rows = np.arange(60)
    model_a, curves_a, facts = fit(cfg, ts, rows[:40], y[:40], rows[40:], y[40:])
    model_b, curves_b, _ = fit(cfg, ts, rows[:40], y[:40], rows[40:], y[40:])
    assert curves_a == curves_b
    assert facts["best_val_kendall_tau_b"] > 0.5  # the conv count is plain in the tokens
    assert np.array_equal(predict(model_a, ts, rows), predict(model_b, ts, rows))

    save_checkpoint(model_a, facts, cfg.model_dump(), tmp_path / "m.pt")
    loaded, meta = load_checkpoint(tmp_path / "m.pt")
    assert meta["channels"] == list(CHANNELS) and meta["params"]["epochs"] == 15
    assert np.allclose(predict(loaded, ts, rows), predict(model_a, ts, rows))


def test_validation_without_any_ranking_stops_with_a_clear_error(tmp_path):
    ts, y = synthetic_tokens(tmp_path)
    cfg = train_settings(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS))
    rows = np.arange(60)
    with pytest.raises(ValueError, match="NaN at every evaluation: the model gave all 20 validation nets"):
        fit(cfg, ts, rows[:40], y[:40], rows[40:], np.full(20, 3.0))  # equal labels: tau is NaN every epoch


def test_rank_loss_prefers_correct_order():
    target = torch.tensor([0.0, 1.0, 2.0])
    good, bad = pairwise_rank_loss(target, target), pairwise_rank_loss(-target, target)
    assert good < bad
    assert pairwise_rank_loss(target, torch.ones(3)) == 0


def test_missing_checkpoint_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="run the train stage first"):
        load_checkpoint(tmp_path / "none.pt")


def test_target_scales_round_trip_monotonically():
    from tart.training.targets import fit_target_scale, to_label_scale, to_model_scale

    y = np.array([10.0, 80.0, 85.0, 90.0, 91.0, 93.0])
    for transform in ("rank", "zscore"):
        scale = fit_target_scale(y, transform)
        z = to_model_scale(y, scale)
        assert np.all(np.diff(z) > 0)
        back = to_label_scale(z, scale)
        assert np.all(np.diff(back) > 0) and back.min() >= 10.0 and back.max() <= 93.0
    assert np.allclose(
        to_label_scale(to_model_scale(y, fit_target_scale(y, "zscore")), fit_target_scale(y, "zscore")), y
    )


@pytest.mark.gpu
def test_training_on_cuda_matches_itself(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    ts, y = synthetic_tokens(tmp_path)
    cfg = train_settings(epochs=3, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, device="cuda",
                channels=list(CHANNELS), attention_bias="edges")  # fmt: skip
    rows = np.arange(60)
    model, curves, facts = fit(cfg, ts, rows[:40], y[:40], rows[40:], y[40:])
    _, curves_again, _ = fit(cfg, ts, rows[:40], y[:40], rows[40:], y[40:])
    assert facts["device"] == "cuda" and curves == curves_again


@pytest.mark.gpu
def test_bf16_profile_on_cuda(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    synthetic_tokens(tmp_path)
    ts = load_tokens(tmp_path, (*CHANNELS, "cell_tokens"), "topology")
    cfg = train_settings(epochs=3, batch_size=16, d_model=32, d_ff=64, n_layers=2, n_heads=4, device="cuda",
                         precision="bf16", channels=[*CHANNELS, "cell_tokens"], attention_bias="edges",
                         graph_pe="topology")  # fmt: skip
    rows = np.arange(60)
    model, _, facts = fit(cfg, ts, rows[:40], np.arange(40.0), rows[40:], np.arange(20.0))
    assert facts["device"] == "cuda" and np.isfinite(predict(model, ts, rows, precision="bf16")).all()


def test_extra_heads_learn_their_own_labels(tmp_path):
    ts, y = synthetic_tokens(tmp_path)
    y2 = np.stack([y, -y], 1)  # an extra head whose label ranks the nets the other way round
    cfg = train_settings(epochs=15, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, lr=3e-3,
                         channels=list(CHANNELS), aux_targets=["reversed"], teacher="none", dropout=0.0,
                         attention_bias="none")
    rows = np.arange(60)
    model, _, facts = fit(cfg, ts, rows[:40], y2[:40], rows[40:], y[40:])
    heads = predict_heads(model, ts, rows[40:])
    assert heads.shape == (20, 2) and len(facts["aux_target_scales"]) == 1
    assert stats.kendalltau(heads[:, 0], y[40:]).statistic > 0.5
    assert stats.kendalltau(heads[:, 1], -y[40:]).statistic > 0.5
    assert np.array_equal(predict(model, ts, rows), predict_heads(model, ts, rows)[:, 0])

    # one pass for outputs and the pooled vectors (screening): the same outputs, and vectors the head maps to them
    outputs, pooled = predict_with_pooled(model, ts, rows[::-1])
    assert np.array_equal(outputs, predict_heads(model, ts, rows[::-1])) and pooled.shape == (60, 16)
    with torch.no_grad():
        from_pooled = model.head(torch.from_numpy(pooled)).numpy()
    assert np.allclose(from_pooled, outputs, atol=1e-5)


def test_ema_keeps_averaged_weights(tmp_path):
    ts, y = synthetic_tokens(tmp_path)
    base = dict(epochs=6, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, lr=3e-3, channels=list(CHANNELS))
    rows = np.arange(60)
    plain, _, _ = fit(train_settings(**base), ts, rows[:40], y[:40], rows[40:], y[40:])
    ema_a, curves_a, _ = fit(train_settings(**base, ema=0.9), ts, rows[:40], y[:40], rows[40:], y[40:])
    ema_b, curves_b, _ = fit(train_settings(**base, ema=0.9), ts, rows[:40], y[:40], rows[40:], y[40:])
    assert curves_a == curves_b  # seeded like the plain run
    assert not np.array_equal(predict(plain, ts, rows), predict(ema_a, ts, rows))
    assert np.array_equal(predict(ema_a, ts, rows), predict(ema_b, ts, rows))


def test_unknown_extra_head_label_is_named(tmp_path):
    ts, y = synthetic_tokens(tmp_path)
    labels = pa.table({"net": np.arange(60, dtype=np.int32), "acc": y})
    split = pa.table({"net": np.arange(60, dtype=np.int32), "role": ["train"] * 40 + ["val"] * 20})
    pq.write_table(labels, tmp_path / "labels.parquet")
    pq.write_table(split, tmp_path / "split.parquet")
    cfg = train_settings(target="acc", aux_targets=["cifar100_test_acc"], teacher="none", channels=list(CHANNELS))
    with pytest.raises(KeyError, match="no label column 'cifar100_test_acc'"):
        train_from_files(cfg, tmp_path, tmp_path / "labels.parquet", tmp_path / "split.parquet")


@pytest.mark.parametrize("graph_pe", ["laplacian", "random_walk", "topology"])
def test_graph_encodings_and_cell_tokens_train(tmp_path, graph_pe):
    synthetic_tokens(tmp_path)
    channels = (*CHANNELS, "cell_tokens")
    ts = load_tokens(tmp_path, channels, graph_pe, 4)
    cfg = train_settings(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(channels),
                attention_bias="edges", graph_pe=graph_pe, pe_dim=4)  # fmt: skip
    rows = np.arange(60)
    model, _, facts = fit(cfg, ts, rows[:40], np.arange(40.0), rows[40:], np.arange(20.0))
    assert facts["model"]["graph_pe"] == graph_pe and np.isfinite(predict(model, ts, rows)).all()
    save_checkpoint(model, facts, cfg.model_dump(), tmp_path / "m.pt")
    loaded, _ = load_checkpoint(tmp_path / "m.pt")
    assert np.allclose(predict(loaded, ts, rows), predict(model, ts, rows))
    with pytest.raises(ValueError, match="tokens were loaded with 'none'"):
        fit(cfg, load_tokens(tmp_path, channels), rows[:40], np.arange(40.0), rows[40:], np.arange(20.0))


def test_bf16_autocast_trains(tmp_path):
    ts, y = synthetic_tokens(tmp_path)
    cfg = train_settings(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS),
                precision="bf16")  # fmt: skip
    rows = np.arange(60)
    model, curves, _ = fit(cfg, ts, rows[:40], y[:40], rows[40:], y[40:])
    assert np.isfinite(predict(model, ts, rows, precision="bf16")).all() and len(curves) == 2
