from tart.tokenize import shape_class, tokenize_row, vocab_hash, vocabulary


def test_vocabulary_is_pinned():
    vocab = vocabulary()
    assert list(vocab["tokens"])[:4] == ["<pad>", "max_pool", "avg_pool", "sep_conv"]
    assert len(vocab["tokens"]) == 16 and len(vocab["shape_tokens"]) == 14
    assert vocab_hash(vocab) == "bef10c63cbdd419e"


def test_exact_tokens_of_a_hand_built_graph():
    row = {
        "net": 7,
        "split": "nb201",
        "num_nodes": 4,
        "primitives": [9, 4, 11, 7],  # input, conv, bn, sum
        "cells": [0, 0, 0, 1],
        "shapes": [[], [16, 3, 3, 3], [16], []],
    }
    assert tokenize_row(row, vocabulary()) == {
        "net": 7,
        "split": "nb201",
        "length": 4,
        "tokens": [10, 5, 12, 8],
        "shape_tokens": [1, 5, 2, 1],
        "cells": [0, 0, 0, 1],
    }


def test_shape_classes():
    assert shape_class([]) == "none"
    assert shape_class([8, 1, 5, 5]) == "dw5x5"
    assert shape_class([8, 4, 1, 1]) == "conv1x1"
    assert shape_class([8, 4, 2, 2]) == "conv_other"
    assert shape_class([10, 64]) == "matrix"
