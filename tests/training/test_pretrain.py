import numpy as np
import pytest
import torch
from helpers import CHANNELS, synthetic_tokens, train_settings

from tart.models.transformer import TartModel
from tart.spaces.darts.generate import VARIANTS, generate_net
from tart.training.pretrain import PretrainConfig, corpus_tokens, mask_nodes, pretrain
from tart.training.train import fit, load_encoder, model_config


def test_mask_nodes_masks_real_nodes_only_and_at_least_one_per_net():
    ids = torch.tensor([[[3, 4], [5, 6], [0, 0]], [[7, 8], [0, 0], [0, 0]]])
    masked, mask = mask_nodes(ids, 0.0, {0: 16, 1: 14}, torch.Generator().manual_seed(0))
    assert mask.tolist() == [[True, False, False], [True, False, False]]  # rate 0: the first node of each net
    assert masked[0, 0].tolist() == [16, 14] and masked[0, 1].tolist() == [5, 6]
    _, mask = mask_nodes(ids, 1.0, {0: 16}, torch.Generator().manual_seed(0))
    assert mask.tolist() == [[True, True, False], [True, False, False]]


@pytest.fixture(scope="module")
def tiny_pretraining():
    train = train_settings(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS),
                  attention_bias="edges", threads=1)  # fmt: skip
    cfg = PretrainConfig(nets=24, epochs=2, batch_size=8, holdout=6)
    corpus, params = corpus_tokens(cfg, train, workers=1)
    return train, cfg, corpus, params, pretrain(cfg, train, corpus)


def test_corpus_uses_the_shared_vocabulary(tiny_pretraining):
    _, cfg, corpus, params, _ = tiny_pretraining
    assert len(corpus.nets) == 24 and corpus.channels == CHANNELS
    assert int(corpus.ids[..., 0].max()) < corpus.vocab_sizes()[0]  # primitives, no mask ids in the data
    assert params[3] == generate_net(cfg.corpus_seed, 3, VARIANTS[cfg.variant]).params["cifar10"]


def test_pretraining_reports_and_transfers(tiny_pretraining, tmp_path):
    train, _, corpus, _, (state, curves, facts) = tiny_pretraining
    assert [c["epoch"] for c in curves] == [1, 2] and 0 <= curves[-1]["holdout_masked_accuracy"] <= 1
    assert facts["corpus_nets"] == 24
    assert state["embed.0.weight"].shape[0] == corpus.vocab_sizes()[0] + 1  # + the mask id
    ts, y = synthetic_tokens(tmp_path)
    model = TartModel(model_config(train, ts))
    load_encoder(model, state)
    assert torch.equal(model.embed[0].weight, state["embed.0.weight"][: corpus.vocab_sizes()[0]])
    assert torch.equal(model.blocks[0].qkv.weight, state["blocks.0.qkv.weight"])
    rows = np.arange(60)
    tuned, _, _ = fit(train, ts, rows[:40], y[:40], rows[40:], y[40:], init=state)
    scratch, _, _ = fit(train, ts, rows[:40], y[:40], rows[40:], y[40:])
    assert not torch.equal(tuned.blocks[0].qkv.weight, scratch.blocks[0].qkv.weight)


def test_load_encoder_refuses_other_widths():
    # one token channel: no edge-bias channels to read, so plain attention
    small = TartModel(model_config(train_settings(d_model=16, n_heads=2, attention_bias="none"), _fake_tokens()))
    wide = TartModel(model_config(train_settings(d_model=32, n_heads=2, attention_bias="none"), _fake_tokens()))
    with pytest.raises(ValueError, match="embed.0.weight"):
        load_encoder(small, wide.state_dict())


def _fake_tokens():
    from tart.tokens.token_set import TokenSet
    from tart.tokens.tokenize import vocabulary

    return TokenSet(
        np.arange(2), torch.ones(2, 3, 1, dtype=torch.long), torch.tensor([3, 3]), ("tokens",), vocabulary()
    )
