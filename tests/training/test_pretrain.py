import numpy as np
import pytest
import torch
from helpers import CHANNELS, synthetic_tokens, train_settings

from tart.io.extract import extract_files
from tart.models.transformer import TartModel
from tart.spaces.darts.generate import VARIANTS, generate, generate_net, shard_paths
from tart.tokens.tokenize import tokenize
from tart.training.pretrain import PretrainConfig, corpus_from_tokens, corpus_tokens, mask_nodes, pretrain
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


def test_a_corpus_read_from_generated_token_shards_matches_the_in_memory_one(tmp_path):
    cfg = PretrainConfig(nets=7)
    generate(tmp_path / "shards", "train", 9, seed=cfg.corpus_seed, shard_size=4, workers=1)
    extract_files(shard_paths(tmp_path / "shards", "train"), "train", tmp_path / "graphs", "report", workers=1)
    tokenize(tmp_path / "graphs", tmp_path / "tokens", workers=1)
    train = train_settings(channels=["tokens", "near_tokens", "far_tokens"], graph_pe="none")
    from_files = corpus_from_tokens(tmp_path / "tokens", cfg.nets, train)  # the first 7 of 9, across shards
    in_memory, _ = corpus_tokens(cfg, train, workers=1)
    assert from_files.nets.tolist() == list(range(7)) and torch.equal(from_files.lengths, in_memory.lengths)
    assert torch.equal(from_files.ids, in_memory.ids)
    with pytest.raises(ValueError, match="carry no parameter shapes"):
        corpus_from_tokens(tmp_path / "tokens", 7, train_settings(channels=["tokens", "shape_tokens"]))
    with pytest.raises(ValueError, match="9 nets in its token shards, 10 asked for"):
        corpus_from_tokens(tmp_path / "tokens", 10, train)
