"""The README's results table, written from the pipeline's own outputs (never by hand)."""

from __future__ import annotations

import os
from pathlib import Path


def results_markdown(metrics: dict, train_meta: dict) -> str:
    rows = []
    for key, title in (("test_all", "all nets"), ("test_remainder", "nets not trained on")):
        m = metrics[key]
        rows.append(
            f"| TART ({metrics['n_train']} training nets) | {title} ({m['n']}) "
            f"| {m['kendall_tau_b']:.4f} [{m['kendall_tau_b_ci95'][0]:.4f}, {m['kendall_tau_b_ci95'][1]:.4f}] "
            f"| {m['spearman_rho']:.4f} [{m['spearman_rho_ci95'][0]:.4f}, {m['spearman_rho_ci95'][1]:.4f}] "
            f"| {m['mae']:.3f} |"
        )
    return "\n".join(
        [
            f"Trained on `{metrics['train_label']}`, scored against `{metrics['test_label']}`; "
            f"best validation epoch {train_meta['best_epoch']} (device `{train_meta['device']}`). "
            "Brackets: bootstrap 95% intervals.",
            "",
            "| model | test set | Kendall tau-b | Spearman rho | MAE (points) |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )


def write_results(markdown: str, results_path: Path, readme: Path | None) -> None:
    """Write `results_path`; if `readme` has the result markers, replace what lies between them."""
    results_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = results_path.with_name(results_path.name + ".tmp")
    tmp.write_text(markdown + "\n")
    os.replace(tmp, results_path)
    if readme is not None:
        replace_section(readme, "results", markdown)


def replace_section(readme: Path, name: str, markdown: str) -> bool:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->`; False if the markers are absent."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text() if readme.exists() else ""
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{markdown}\n{end}{tail}")
    return True
