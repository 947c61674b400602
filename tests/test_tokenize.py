from tart.tokenize import predecessor_offsets, shape_class, tokenize_row, vocab_hash, vocabulary


def test_vocabulary_is_pinned():
    vocab = vocabulary()
    assert list(vocab["tokens"])[:4] == ["<pad>", "max_pool", "avg_pool", "sep_conv"]
    assert len(vocab["tokens"]) == 16 and len(vocab["shape_tokens"]) == 14
    assert len(vocab["cell_tokens"]) == 65  # pad + cells 0..63 (63 = 63 and beyond)
    assert vocab_hash(vocab) == "b07b1c34c4cd5046"


def test_exact_tokens_of_a_hand_built_graph():
    row = {
        "net": 7,
        "split": "nb201",
        "num_nodes": 4,
        "primitives": [9, 4, 11, 7],  # input, conv, bn, sum
        "cells": [0, 0, 0, 1],
        "shapes": [[], [16, 3, 3, 3], [16], []],
        "edge_src": [0, 0, 1, 2],
        "edge_dst": [1, 3, 2, 3],
    }
    assert tokenize_row(row, vocabulary()) == {
        "net": 7,
        "split": "nb201",
        "length": 4,
        "tokens": [10, 5, 12, 8],
        "shape_tokens": [1, 5, 2, 1],
        "cells": [0, 0, 0, 1],
        "cell_tokens": [1, 1, 1, 2],
        "near_tokens": [1, 2, 2, 2],
        "far_tokens": [1, 2, 2, 4],
        "edge_src": [0, 0, 1, 2],
        "edge_dst": [1, 3, 2, 3],
    }


def test_shape_classes():
    assert shape_class([]) == "none"
    assert shape_class([8, 1, 5, 5]) == "dw5x5"
    assert shape_class([8, 4, 1, 1]) == "conv1x1"
    assert shape_class([8, 4, 2, 2]) == "conv_other"
    assert shape_class([10, 64]) == "matrix"


def test_predecessor_offsets_are_clipped():
    near, far = predecessor_offsets(100, [0, 1, 98], [99, 99, 99])
    assert (near[99], far[99]) == (2, 65)  # distance 1 -> token 2; distance 99 -> clipped to 64 -> token 65
    assert near[0] == far[0] == 1
    assert len(vocabulary()["offset_tokens"]) == 66
