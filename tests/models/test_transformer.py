import torch
from helpers import small_tart_config

from tart.models.transformer import MAX_HOPS, TartModel


def config(**kw):
    base = dict(vocab_sizes=(16, 14, 66, 66), max_len=12, d_model=16, n_layers=2, n_heads=2, d_ff=32)
    return small_tart_config(**{**base, **kw})


def graph_ids():
    # input -> conv -> bn, and a sum of bn (distance 1) and input (distance 3): near/far offset tokens 1 + d
    tokens = [10, 5, 12, 8]
    shapes = [1, 5, 2, 1]
    near = [1, 2, 2, 2]
    far = [1, 2, 2, 4]
    return torch.tensor([list(zip(tokens, shapes, near, far))])  # (1, 4, 4)


def test_edge_relations_are_exact():
    model = TartModel(config(attention_bias="edges", near_channel=2, far_channel=3))
    with torch.no_grad():
        model.relation_bias.weight.copy_(torch.arange(4.0)[:, None].expand(4, 2))  # bias = relation id
    bias = model._attention_bias(graph_ids(), torch.zeros(1, 4, dtype=torch.bool))[0, 0]
    assert bias.tolist() == [
        [3, 2, 0, 2],  # input: itself, successors conv and sum
        [1, 3, 2, 0],
        [0, 1, 3, 2],
        [1, 0, 1, 3],  # sum: predecessors bn and input
    ]


def test_path_relations_count_hops_along_directed_paths():
    model = TartModel(config(attention_bias="paths", near_channel=2, far_channel=3))
    with torch.no_grad():  # bias = relation id: h = ancestor h hops up, MAX_HOPS + h = descendant, 2 MAX_HOPS + 1 self
        model.relation_bias.weight.copy_(torch.arange(2.0 * MAX_HOPS + 2)[:, None].expand(-1, 2))
    ids = torch.cat([graph_ids(), torch.tensor([[[7, 1, 1, 1]]])], 1)  # + node 4, connected to nothing
    bias = model._path_bias(ids, torch.zeros(1, 5, dtype=torch.bool))[0, 0]
    d, self_ = MAX_HOPS, 2 * MAX_HOPS + 1
    assert bias.tolist() == [
        [self_, d + 1, d + 2, d + 1, 0],  # input: conv 1 hop down, bn 2, sum 1 (its direct edge)
        [1, self_, d + 1, d + 2, 0],
        [2, 1, self_, d + 1, 0],
        [1, 2, 1, self_, 0],  # sum: input 1 hop up (direct), conv 2 (through bn), bn 1
        [0, 0, 0, 0, self_],
    ]


def test_relations_beyond_the_last_hop_count_as_unrelated():
    model = TartModel(config(attention_bias="paths", near_channel=2, far_channel=3, max_len=40))
    with torch.no_grad():
        model.relation_bias.weight.copy_(torch.arange(2.0 * MAX_HOPS + 2)[:, None].expand(-1, 2))
    length = MAX_HOPS + 5  # a chain: every node reads the one before it
    near = torch.tensor([1] + [2] * (length - 1))
    ids = torch.stack([torch.full((length,), 5), torch.ones(length, dtype=torch.long), near, near], -1)[None]
    bias = model._path_bias(ids, torch.zeros(1, length, dtype=torch.bool))[0, 0]
    assert bias[MAX_HOPS, 0] == MAX_HOPS and bias[0, MAX_HOPS] == 2 * MAX_HOPS
    assert bias[MAX_HOPS + 1, 0] == 0 and bias[0, MAX_HOPS + 1] == 0
    assert bias[5, 2] == 3 and bias[2, 5] == MAX_HOPS + 3


def test_padding_does_not_change_the_prediction():
    torch.manual_seed(0)
    for kw in ({}, {"attention_bias": "edges", "near_channel": 2, "far_channel": 3},
               {"attention_bias": "paths", "near_channel": 2, "far_channel": 3}):  # fmt: skip
        model = TartModel(config(**kw)).eval()
        ids = graph_ids()
        padded = torch.cat([ids, torch.zeros(1, 5, 4, dtype=torch.long)], dim=1)
        with torch.no_grad():
            assert torch.allclose(model(ids), model(padded), atol=1e-6)


def test_order_blind_without_positions():
    torch.manual_seed(0)
    model = TartModel(config(positions="none", vocab_sizes=(16,))).eval()
    ids = torch.tensor([[[10], [5], [12], [8]]])
    with torch.no_grad():
        assert torch.allclose(model(ids), model(ids.flip(1)), atol=1e-6)


def test_edge_bias_matches_a_dense_lookup_on_random_graphs():
    # The sparse construction must equal looking up the relation of every (query, key) pair.
    torch.manual_seed(0)
    model = TartModel(config(attention_bias="edges", near_channel=2, far_channel=3, max_len=30))
    torch.nn.init.normal_(model.relation_bias.weight)
    b, length = 3, 30
    near = torch.randint(1, 8, (b, length))  # token 1 + d, 1 = no input
    far = torch.maximum(near, torch.randint(1, 12, (b, length)))
    pos = torch.arange(length)
    near, far = torch.where(near - 1 > pos, 1, near), torch.where(far - 1 > pos, 1, far)  # no edge before node 0
    ids = torch.stack([torch.full((b, length), 5), torch.ones(b, length, dtype=torch.long), near, far], -1)
    ids[2, 25:] = 0  # padding
    pad = ids[..., 0] == 0
    rel = torch.zeros(b, length, length, dtype=torch.long)
    rel[:, pos, pos] = 3
    for off in (ids[..., 2] - 1, ids[..., 3] - 1):
        for bi, qi in (off >= 1).nonzero().tolist():
            rel[bi, qi, qi - off[bi, qi]] = 1
            rel[bi, qi - off[bi, qi], qi] = 2
    dense = model.relation_bias(rel).permute(0, 3, 1, 2).masked_fill(pad[:, None, None, :], float("-inf"))
    assert torch.equal(model._attention_bias(ids, pad), dense)
