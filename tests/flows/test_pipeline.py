"""End to end: `dvc repro` of the whole pipeline on a tiny profile (300 NB201 nets, 2 epochs)."""

import json
import sys

import pytest
from helpers import run, run_stages, workspace_env

pytestmark = pytest.mark.integration


def test_dvc_repro_tiny_profile(tiny_workspace, mirror):
    work = tiny_workspace
    metrics = json.loads((work / "reports" / "metrics.json").read_text())
    assert metrics["test_all"]["n"] == 300 and metrics["test_remainder"]["n"] == 200
    # two epochs on 100 nets learn little, but something: the bootstrap interval must exclude a random ranking
    low, high = metrics["test_all"]["kendall_tau_b_ci95"]
    assert 0 < low <= metrics["test_all"]["kendall_tau_b"] <= high
    baselines = json.loads((work / "reports" / "baselines.json").read_text())["baselines"]
    # the cell-feature regressors beat the parameter count on the tiny profile as they do on all of NB201
    assert baselines["gbm_canonical"]["100"]["kendall_tau_b"] > baselines["params"]["100"]["kendall_tau_b"] + 0.1
    assert set(metrics["transfer"]) >= {"kendall_tau_b_cifar100_test_acc", "kendall_tau_b_imagenet16_test_acc"}
    assert set(metrics["heads"]["cifar100_test_acc"]) == {"kendall_tau_b", "kendall_tau_b_remainder"}
    grid = json.loads((work / "reports" / "tart_grid.json").read_text())
    expected = []  # each size's stage (tart_grid_fits@N), merged in tart_grid.train_sizes order
    for n in (50, 100):
        size = json.loads((work / "reports" / "tart_grid" / f"{n}.json").read_text())
        fits, ensemble = [(n, 0), (n, 1)], [(n, None)]
        for suffix in ("", "_iso", "_function"):
            expected += [*((f"tart{suffix}", *f) for f in fits), *((f"tart_ensemble{suffix}", *e) for e in ensemble)]
        assert list(size["recipes"]) == [str(n)] and size["runs"] == [r for r in grid["runs"] if r["n_train"] == n]
    assert [(r["predictor"], r["n_train"], r["seed"]) for r in grid["runs"]] == expected
    assert grid["baselines"]["tart"]["100"]["seeds"] == 2 and grid["model"]["graph_pe"] == "topology"
    assert (grid["recipes"]["50"]["epochs"], grid["recipes"]["100"]["epochs"]) == (3, 2)  # tart_grid.overrides
    comparison = (work / "reports" / "comparison.md").read_text()
    assert "| TART (this pipeline) | " in comparison and " ± " in comparison.split("| TART (this pipeline) |")[1][:60]
    assert "ImageNet16-120" in comparison and "Zero-cost proxies" in comparison and "| synflow |" in comparison
    assert "seconds per fit" in comparison and "| cpu |" in comparison
    for figure in ("pred_vs_true.png", "training_curve.png", "nb201_graph.png"):
        assert (work / "reports" / "figures" / figure).stat().st_size > 1000
    assert "Kendall tau-b" in (work / "reports" / "results.md").read_text()
    provenance = json.loads((work / "reports" / "provenance" / "train.json").read_text())
    assert provenance["cpu_model"] and provenance["stage"] == "train"
    checkpoint_meta = json.loads((work / "data" / "model" / "tart.pt.json").read_text())
    assert checkpoint_meta["vocab_hash"] and checkpoint_meta["params"]["epochs"] == 2
    # Nothing changed, so the pipeline is up to date.
    assert "up to date" in run([sys.executable, "-m", "dvc", "status"], work, workspace_env(work, mirror))

    from benchmarks.token_bound import token_bound

    bound = token_bound(work / "data" / "tokens", work / "data" / "build" / "labels.parquet",
                        "cifar10_valid_val_acc", "cifar10_test_acc", work / "data" / "graphs")  # fmt: skip
    counts = [bound[k]["distinct_sequences"] for k in ("primitive", "primitive+shape", "primitive+shape+offsets")]
    assert counts == sorted(counts) and counts[-1] <= 300
    # a function class merges isomorphic cells and cells that differ only by skip connections
    assert 0 < bound["function_classes"]["classes"] <= bound["isomorphism_classes"]["classes"] <= 300
    # averaging the training label over a class loses little: the oracles stay close to the label itself
    label_itself = bound["label_itself"]["oracle_kendall_tau_b"]
    assert label_itself - 0.1 < bound["isomorphism_classes"]["oracle_kendall_tau_b"] <= label_itself + 0.05
    dead = bound["dead_nodes"]
    assert dead["nets"] == 300 and 0 < dead["nets_with_dead_nodes"] < 300
    assert dead["mean_tokens"] < dead["mean_nodes_built"]


def test_no_stage_writes_a_file_it_does_not_declare(tiny_workspace, mirror):
    """Everything the tiny `dvc repro` left for git to track (git ignores DVC-cached outputs) is a declared
    cache: false output of some stage, or a file that was there before."""
    work = tiny_workspace
    declared = {out for outs in run_stages(work).values() for out in outs}
    tracked = run(["git", "ls-files", "reports", "data"], work, workspace_env(work, mirror)).split()
    undeclared = [f for f in tracked if f != "data/manifest.tsv" and not f.endswith(".gitignore")
                  and not any(f == d or f.startswith(d.rstrip("/") + "/") for d in declared)]  # fmt: skip
    assert not undeclared, f"written but declared by no stage: {undeclared}"
