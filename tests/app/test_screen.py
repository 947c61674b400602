import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import train_settings
from typer.testing import CliRunner

from tart.app.cli import app
from tart.app.predict import nb201_graph, predict_graph
from tart.app.screen import ScreenError, deepnets_candidates, nb201_candidates, read_arch_file, screen
from tart.core import files, schemas
from tart.graphs.graph import graph_row
from tart.io.deepnets1m import write_split
from tart.spaces.nb201.network import GraphComposer, all_arch_ops, arch_string
from tart.tokens.token_set import load_tokens
from tart.tokens.tokenize import tokenize_table, vocabulary
from tart.training.checkpoint import save_checkpoint
from tart.training.train import fit

runner = CliRunner()
CHANNELS = ("tokens", "shape_tokens", "near_tokens", "far_tokens")
ARCHS = [arch_string(ops) for ops in all_arch_ops()[::701]]  # 23 cells spread over the space


@pytest.fixture(scope="module")
def nb201_checkpoint(tmp_path_factory):
    """A tiny model fit on 16 NB201 graphs (label: the number of 3x3 convs), long enough for every NB201 net."""
    tmp = tmp_path_factory.mktemp("screen")
    composer = GraphComposer()
    rows = [graph_row(composer.graph(a)[0], k, "nb201") for k, a in enumerate(ARCHS)]
    tokens = tokenize_table(pa.Table.from_pylist(rows), vocabulary())
    files.write_table(tokens, tmp / "tokens-00000.parquet", schemas.TOKENS)
    (tmp / "vocab.json").write_text(json.dumps(vocabulary()))
    ts = load_tokens(tmp, CHANNELS)
    y = np.array([a.count("nor_conv_3x3") for a in ARCHS], dtype=float)
    cfg = train_settings(epochs=2, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS),
                attention_bias="edges")  # fmt: skip
    model, _, facts = fit(cfg, ts, np.arange(16), y[:16], np.arange(16, 23), y[16:])
    save_checkpoint(model, facts, cfg.model_dump(), tmp / "m.pt")
    return tmp / "m.pt"


def write_hdf5(archs: list[str], h5, split: str) -> list:
    """`archs` as a DeepNets-1M-format file (STEM_meta.json beside it) and `shapes.parquet` in its folder."""
    composer = GraphComposer()
    graphs = [composer.graph(a)[0] for a in archs]
    write_split(h5, h5.with_name(f"{h5.stem}_meta.json"), split, ((g, {}) for g in graphs))
    shapes = pa.table({"net": list(range(len(archs))), "shapes": [[list(s) for s in g.shapes] for g in graphs]})
    files.write_table(shapes, h5.with_name("shapes.parquet"), schemas.NODE_SHAPES)
    return graphs


def test_screen_matches_one_at_a_time_predictions(nb201_checkpoint, tmp_path):
    archs = ARCHS[::3]
    table, facts = screen(nb201_candidates(archs, workers=1, chunk=3), nb201_checkpoint, batch_size=4)
    single = [predict_graph(nb201_graph(a), nb201_checkpoint)["prediction"] for a in archs]
    assert table["source"].to_pylist() == archs and table["candidate"].to_pylist() == list(range(len(archs)))
    np.testing.assert_allclose(table["prediction"].to_numpy(), single, rtol=0, atol=1e-5)
    order = np.argsort(-table["prediction"].to_numpy(), kind="stable")
    assert table["rank"].to_numpy()[order][0] == 1 and np.all(np.diff(table["rank"].to_numpy()[order]) >= 0)
    assert facts["label"] == train_settings().target


def test_hdf5_candidates_with_shapes_read_as_the_strings(nb201_checkpoint, tmp_path):
    archs = ARCHS[:5]
    write_hdf5(archs, tmp_path / "c.hdf5", "cands")
    from_h5, _ = screen(deepnets_candidates(tmp_path / "c.hdf5", tmp_path / "c_meta.json", "cands",
                                            tmp_path / "shapes.parquet", chunk=2), nb201_checkpoint)  # fmt: skip
    from_strings, _ = screen(nb201_candidates(archs, workers=1), nb201_checkpoint)
    assert from_h5["source"].to_pylist() == [f"cands/{k}" for k in range(5)]
    np.testing.assert_allclose(from_h5["prediction"].to_numpy(), from_strings["prediction"].to_numpy(), atol=1e-6)
    assert from_h5["live_nodes"].to_pylist() == from_strings["live_nodes"].to_pylist()

    out = tmp_path / "ranked.parquet"
    result = runner.invoke(app, ["screen", str(tmp_path / "c.hdf5"), str(out), "--checkpoint", str(nb201_checkpoint),
                                 "--shapes", str(tmp_path / "shapes.parquet"), "--top", "2"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "screened 5 candidates" in result.output and out.exists()


def test_cli_writes_the_ranked_table(nb201_checkpoint, tmp_path):
    (tmp_path / "archs.txt").write_text("\n".join(ARCHS[:4]) + "\n")
    out = tmp_path / "ranked.parquet"
    result = runner.invoke(app, ["screen", str(tmp_path / "archs.txt"), str(out), "--checkpoint",
                                 str(nb201_checkpoint), "--top", "3", "--workers", "1"])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.schema.names == ["candidate", "source", "prediction", "rank", "num_nodes", "live_nodes",
                                  "unseen_tokens", "distance", "outside"]  # fmt: skip
    assert table["outside"].null_count == 4  # the fixture's checkpoint has no training profile
    assert "no training profile" in result.stderr
    assert sorted(table["rank"].to_pylist())[0] == 1 and table["source"].to_pylist() == ARCHS[:4]
    best = table.sort_by("rank")["source"][0].as_py()
    printed = result.stdout.splitlines()  # the progress bar goes to stderr
    assert printed[1].endswith(best) and len(printed) == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no architecture strings"),
        (f"{ARCHS[0]}\n\n{ARCHS[1]}\n", "line 2 is empty"),
        (f"{ARCHS[0]}\n|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|\n", "line 2: "),
    ],
)
def test_bad_arch_file_is_one_clear_error_and_no_output(nb201_checkpoint, tmp_path, text, message):
    (tmp_path / "archs.txt").write_text(text)
    with pytest.raises(ScreenError, match=message):
        read_arch_file(tmp_path / "archs.txt")
    out = tmp_path / "ranked.parquet"
    result = runner.invoke(app, ["screen", str(tmp_path / "archs.txt"), str(out), "--checkpoint",
                                 str(nb201_checkpoint)])  # fmt: skip
    assert result.exit_code == 1 and message in result.output and f"{tmp_path / 'archs.txt'}" in result.output
    assert not list(tmp_path.glob("ranked*"))


def test_a_binary_file_is_not_read_as_strings(tmp_path):
    (tmp_path / "nets.parquet").write_bytes(b"PAR1\xff\xfe\x00")
    with pytest.raises(ScreenError, match="not a text file of NB201 strings"):
        read_arch_file(tmp_path / "nets.parquet")


def test_hdf5_errors_name_the_file(nb201_checkpoint, tmp_path):
    graph = GraphComposer().graph(ARCHS[0])[0]
    write_split(tmp_path / "c.hdf5", tmp_path / "c_meta.json", "a", [(graph, {})])
    files.write_table(pa.table({"net": [0, 1], "shapes": [[], []]}), tmp_path / "s.parquet", schemas.NODE_SHAPES)
    cases = [
        (["--shapes", str(tmp_path / "s.parquet")], "expected one row per net 0..0"),
        (["--shapes", str(tmp_path / "c_meta.json")], "not a node-shapes Parquet with columns net, shapes"),
        (["--split", "b"], "no split 'b'; the file has ['a']"),
        (["--meta", str(tmp_path / "missing.json")], "missing.json"),
    ]
    for extra, message in cases:
        result = runner.invoke(app, ["screen", str(tmp_path / "c.hdf5"), str(tmp_path / "o.parquet"),
                                     "--checkpoint", str(nb201_checkpoint), *extra])  # fmt: skip
        assert result.exit_code == 1 and message in result.output, (extra, result.output)
    assert not (tmp_path / "o.parquet").exists()


def test_a_graph_longer_than_the_checkpoint_is_refused(tmp_path):
    from helpers import synthetic_tokens  # chains of at most 12 nodes: a 12-row position table

    # candidate 0 (all edges none) is short enough; candidate 1 is the first that is not

    ts, y = synthetic_tokens(tmp_path)
    cfg = train_settings(epochs=1, batch_size=8, d_model=16, d_ff=32, n_layers=1, n_heads=2, channels=list(CHANNELS))
    model, _, facts = fit(cfg, ts, np.arange(40), y[:40], np.arange(40, 60), y[40:])
    save_checkpoint(model, facts, cfg.model_dump(), tmp_path / "short.pt")
    with pytest.raises(ScreenError, match=r"candidate 1 \(\|none~0\|.*\): 66 nodes reach its output; .* at most 12"):
        screen(nb201_candidates(ARCHS[:2], workers=1), tmp_path / "short.pt")


def test_help_lists_screen():
    result = runner.invoke(app, ["screen", "--help"])
    assert result.exit_code == 0 and "Parquet" in result.output


def test_benchmark_checks_both_routes_against_the_evaluated_predictions(nb201_checkpoint, tmp_path):
    from benchmarks.screen import screen_benchmark, screen_markdown
    from tart.core.params import load_params

    archs = ARCHS[:6]
    graphs = write_hdf5(archs, tmp_path / "n.hdf5", "nb201")
    truth = [90.0, 80.0, 93.0, 70.0, 85.0, 60.0]
    pq.write_table(pa.table({"net": list(range(6)), "arch": archs, "cifar10_test_acc": truth}),
                   tmp_path / "labels.parquet")  # fmt: skip
    single = [predict_graph(g, nb201_checkpoint)["prediction"] for g in graphs]
    pq.write_table(pa.table({"net": [5, 4, 3, 2, 1, 0], "prediction": single[::-1]}), tmp_path / "pred.parquet")
    p = load_params()
    paths = p.paths.model_copy(update={
        "labels": tmp_path / "labels.parquet", "predictions": tmp_path / "pred.parquet", "model": nb201_checkpoint,
        "nb201_h5": tmp_path / "n.hdf5", "nb201_meta": tmp_path / "n_meta.json",
        "node_shapes": tmp_path / "shapes.parquet",
    })  # fmt: skip
    result = screen_benchmark(p.model_copy(update={"paths": paths}), workers=1)
    assert result["nets"] == 6 and set(result["routes"]) == {"nb201_strings", "deepnets1m_hdf5"}
    for route in result["routes"].values():
        assert route["max_abs_diff_vs_evaluate"] < 1e-5 and route["nets_per_second"] > 0
    assert result["search"]["space_best"] == 93.0 and result["search"]["top"]["1"]["mean"] in truth
    assert "| DeepNets-1M-format HDF5" in screen_markdown(result) and "| 10 |" in screen_markdown(result)


def test_top_k_quality_reads_the_true_accuracy_of_the_picked_nets():
    from benchmarks.screen import top_k_quality

    truth = np.array([50.0, 94.0, 70.0, 90.0, 60.0])
    prediction = np.array([0.9, 0.1, 0.8, 0.7, 0.2])  # ranks nets 0, 2, 3, 4, 1
    result = top_k_quality(prediction, truth, (1, 3, 5))
    assert result["space_best"] == 94.0 and result["space_mean"] == pytest.approx(72.8)
    assert result["top"]["1"] == {"best": 50.0, "mean": 50.0, "true_rank_of_best": 5}
    assert result["top"]["3"] == {"best": 90.0, "mean": pytest.approx(70.0), "true_rank_of_best": 2}
    assert result["top"]["5"]["true_rank_of_best"] == 1
