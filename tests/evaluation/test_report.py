from tart.evaluation.report import results_markdown, write_results

METRICS = {
    "n_train": 100, "train_label": "a", "test_label": "b",
    "test_all": {"n": 300, "kendall_tau_b": 0.5, "kendall_tau_b_ci95": [0.4, 0.6], "spearman_rho": 0.7,
                 "spearman_rho_ci95": [0.6, 0.8], "mae": 1.25},
    "test_remainder": {"n": 200, "kendall_tau_b": 0.45, "kendall_tau_b_ci95": [0.3, 0.6], "spearman_rho": 0.6,
                       "spearman_rho_ci95": [0.5, 0.7], "mae": 1.5},
}  # fmt: skip


def test_results_table_is_written_to_its_report_only(tmp_path):
    md = results_markdown(METRICS, {"best_epoch": 3, "device": "cpu"})
    assert "| TART (100 training nets) | all nets (300) | 0.5000 [0.4000, 0.6000] |" in md
    write_results(md, tmp_path / "results.md")
    assert (tmp_path / "results.md").read_text() == md + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.md"]  # no temporary file left behind
