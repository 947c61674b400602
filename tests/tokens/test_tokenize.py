import pyarrow as pa

from tart.app.predict import nb201_graph
from tart.graphs.graph import graph_row
from tart.tokens.tokenize import (
    predecessor_offsets,
    prune_row,
    shape_class,
    tokenize_row,
    tokenize_table,
    vocab_hash,
    vocabulary,
)


def test_vocabulary_is_pinned():
    vocab = vocabulary()
    assert list(vocab["tokens"])[:4] == ["<pad>", "max_pool", "avg_pool", "sep_conv"]
    assert len(vocab["tokens"]) == 16 and len(vocab["shape_tokens"]) == 14
    assert len(vocab["cell_tokens"]) == 65  # pad + cells 0..63 (63 = 63 and beyond)
    assert vocab["nodes"] == "reaching the output"
    assert vocab_hash(vocab) == "a1f3373397428fde"


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


def test_nodes_that_do_not_reach_the_output_are_dropped():
    # 0 -> 1 -> 4 (the output: last node); 0 -> 2 is read by nothing; 3 -> 4 is kept though 3 has no input
    row = {"net": 1, "split": "x", "num_nodes": 5, "primitives": [9, 4, 11, 4, 7], "cells": [0, 0, 0, 0, 0],
           "shapes": [[], [8, 3, 3, 3], [8], [8, 8, 1, 1], []],
           "edge_src": [0, 1, 0, 3], "edge_dst": [1, 4, 2, 4]}  # fmt: skip
    pruned = prune_row(row)
    assert pruned["num_nodes"] == 4 and pruned["primitives"] == [9, 4, 4, 7]
    assert pruned["shapes"] == [[], [8, 3, 3, 3], [8, 8, 1, 1], []]
    assert sorted(zip(pruned["edge_src"], pruned["edge_dst"])) == [(0, 1), (1, 3), (2, 3)]
    assert tokenize_row(row, vocabulary())["length"] == 4


def test_table_and_row_pruning_agree_on_nb201_cells():
    # the first cell's output reads only the input: its nodes 1 and 2 (and their convolutions) are dead
    archs = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|none~2|",
             "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
             "|none~0|+|skip_connect~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|none~2|"]  # fmt: skip
    rows = [graph_row(nb201_graph(a), net, "nb201") for net, a in enumerate(archs)]
    vocab = vocabulary()
    by_row = [tokenize_row(r, vocab) for r in rows]
    assert by_row[0]["length"] < rows[0]["num_nodes"] and by_row[1]["length"] == rows[1]["num_nodes"]
    table = tokenize_table(pa.Table.from_pylist(rows), vocab).to_pylist()
    for got, want in zip(table, by_row):
        assert got == want
