"""The generated report pages (reports/results.md, reports/comparison.md), written from the pipeline's own outputs
(never by hand)."""

from __future__ import annotations

from pathlib import Path

from tart.core.files import write_text


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


def write_results(markdown: str, results_path: Path) -> None:
    """A generated report page (declared as an output of the stage that calls this)."""
    write_text(results_path, markdown + "\n")


PREDICTOR_LABELS = {
    "tart": "TART (this pipeline)",
    "tart_ensemble": "TART seed ensemble: mean of the TART row's seed predictions",
    "tart_iso": "TART, each prediction averaged over the nets with an isomorphic graph",
    "tart_ensemble_iso": "TART seed ensemble, averaged over the nets with an isomorphic graph",
    "tart_function": "TART, each prediction averaged over the net's NB201 function class",
    "tart_ensemble_function": "TART seed ensemble, averaged over the net's NB201 function class",
    "narformer": "NAR-Former-style, CPU profile (this pipeline)",
    "narformer_live": "NAR-Former-style, CPU profile, live ops (this pipeline)",
    "narformer_canonical": "NAR-Former-style, CPU profile, function-class representative (this pipeline)",
    "tgnas": "TG-NAS-style GCN on op-description embeddings (this pipeline)",
    "tgnas_live": "TG-NAS-style GCN on op-description embeddings, live ops (this pipeline)",
    "tgnas_canonical": "TG-NAS-style GCN on op-description embeddings, function-class representative (this pipeline)",
    "params": "parameter count (no training)",
    "flops_nb201": "FLOPs as NB201's cost tables count them (no training)",
    "flops_2mac": "FLOPs, 2 per multiply-accumulate of convs and linears (no training; ranks like the parameter count)",
    "ridge_onehot": "ridge on one-hot edge ops",
    "gbm_onehot": "gradient boosting on one-hot edge ops",
    "rf_onehot": "random forest on one-hot edge ops",
    "gbm_paths": "gradient boosting on live edge ops + path op counts",
    "rf_paths": "random forest on live edge ops + path op counts",
    "gbm_canonical": "gradient boosting on function-class cells: path features, path shapes, live parameters",
    "rf_canonical": "random forest on function-class cells: path features, path shapes, live parameters",
    "gbm_canonical_cifar100": "gradient boosting on function-class cells, fit to the CIFAR-10 and CIFAR-100 labels "
    "(two labels per training net)",
    "gp_canonical": "Gaussian process on function-class cells: the same features, standardised",
    "gp_gbm_canonical": "Gaussian process and gradient boosting on function-class cells, mixed (share chosen on "
    "the validation nets)",
}
# Published numbers (NAR-Former, Yi et al., CVPR 2023: NB201 at 5% and 10%), shown for reference, marked as not run.
PUBLISHED = {"NAR-Former (published, not run here)": {781: 0.849, 1563: 0.901}}


def comparison_entries(baselines: dict, metrics: dict, *rivals: dict) -> list[dict]:
    """Rows for the comparison table and figures: {predictor (the report key; "ceiling" and "published" for the
    reference rows), name, published, scores: {n_train: {...}}}."""
    tart = {"kendall_tau_b": metrics["test_all"]["kendall_tau_b"], "kendall_tau_b_std": None,
            "kendall_tau_b_remainder": metrics["test_remainder"]["kendall_tau_b"],
            "spearman_rho": metrics["test_all"]["spearman_rho"],
            "spearman_rho_remainder": metrics["test_remainder"]["spearman_rho"], "seeds": 1,
            **metrics.get("transfer", {})}  # fmt: skip
    runs = {name: by_size for report in (*rivals, baselines) for name, by_size in report["baselines"].items()}
    devices = {name: devices for report in (*rivals, baselines) for name, devices in run_devices(report).items()}
    # The `tart_grid` stage's seeds stand in for the single `train` run when present.
    entries = [] if "tart" in runs else [{"predictor": "tart", "name": PREDICTOR_LABELS["tart"], "published": False,
                                          "scores": {metrics["n_train"]: tart}, "device": "-"}]  # fmt: skip
    for name, by_size in runs.items():
        # one run (no randomness, or one seed) has no spread to show
        scores = {int(n): {k: None if k.endswith("_std") and s["seeds"] == 1 else v for k, v in s.items()}
                  for n, s in by_size.items()}  # fmt: skip
        entries.append({"predictor": name, "name": PREDICTOR_LABELS.get(name, name), "published": False,
                        "scores": scores, "device": devices.get(name)})  # fmt: skip
    if "label_ceiling" in baselines:  # the same at every training-set size: it is not a fitted model
        sizes = {n for e in entries for n in e["scores"]}
        ceiling = {**baselines["label_ceiling"], "kendall_tau_b_remainder": None, "seeds": None}
        entries.append({"predictor": "ceiling", "published": False, "scores": {n: ceiling for n in sorted(sizes)},
                        "name": f"ceiling: the training label ({baselines['train_label']}) itself"})  # fmt: skip
        for labels, tau in baselines.get("mixed_label_ceilings", {}).items():
            mixed = {"kendall_tau_b": tau, "kendall_tau_b_remainder": None, "seeds": None}
            entries.append({"predictor": "ceiling", "published": False, "scores": {n: mixed for n in sorted(sizes)},
                            "name": f"ceiling: mean normal score of {baselines['train_label']} and "
                            f"{labels.replace('+', ' and ')}"})  # fmt: skip
    for name, by_size in PUBLISHED.items():
        scores = {n: {"kendall_tau_b": tau, "kendall_tau_b_std": None, "kendall_tau_b_remainder": None, "seeds": None}
                  for n, tau in by_size.items()}  # fmt: skip
        entries.append({"predictor": "published", "name": name, "published": True, "scores": scores})
    return entries


def run_devices(report: dict) -> dict[str, str]:
    """{predictor: the devices its runs used}; runs without a device field are scikit-learn or NumPy fits, which
    only run on the CPU."""
    found: dict[str, set] = {}
    for run in report.get("runs", []):
        found.setdefault(run["predictor"], set()).add(run.get("device", "cpu"))
    return {name: "/".join(sorted(devices)) for name, devices in found.items()}


def table_sizes(entries: list[dict]) -> list[int]:
    """The two largest training-set sizes run here (781 and 1563 by default: the published protocol); the
    curve of tau against size shows them all."""
    return sorted({n for e in entries if not e["published"] for n in e["scores"]})[-2:]


def _cell(score: dict | None, key: str) -> str:
    if score is None or score.get(key) is None:
        return "-"
    std = score.get(key + "_std")
    return f"{score[key]:.4f}" + (f" ± {std:.4f}" if std is not None else "")


def comparison_markdown(entries: list[dict], n_total: int) -> str:
    sizes = table_sizes(entries)
    header = ["predictor"]
    for n in sizes:
        header += [f"tau, {n} train ({100 * n / n_total:.0f}%): all nets", "not trained on"]
    header.append("seeds")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for e in entries:
        cells = [e["name"]]
        for n in sizes:
            score = e["scores"].get(n)
            cells += [_cell(score, "kendall_tau_b"), _cell(score, "kendall_tau_b_remainder")]
        seeds = sorted({e["scores"][n]["seeds"] for n in sizes if n in e["scores"] and e["scores"][n]["seeds"]})
        cells.append("/".join(map(str, seeds)) or "-")
        lines.append("| " + " | ".join(cells) + " |")
    note = (f"Kendall tau-b against CIFAR-10 test accuracy over all {n_total} NB201 nets and over those not trained "
            "on; ± = standard deviation over seeds (training set fixed: the first N nets by index).")  # fmt: skip
    return note + "\n\n" + "\n".join(lines)


def _seconds(score: dict | None) -> str:
    seconds = None if score is None else score.get("fit_seconds_median")
    if seconds is None:
        return "-"
    return f"{seconds:,.0f}" if seconds >= 100 else f"{seconds:.1f}" if seconds >= 1 else f"{seconds:.3f}"


def cost_markdown(entries: list[dict]) -> str:
    """Spearman rho at the table's sizes, and what one run cost: median seconds per fit and the device."""
    sizes = table_sizes(entries)
    header = ["predictor"]
    for n in sizes:
        header += [f"rho, {n} train: all nets", "not trained on"]
    header += [*(f"seconds per fit, {n}" for n in sizes), "device"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for e in entries:
        if e["published"] or not e.get("device"):  # ceilings and published numbers were not fit here
            continue
        scores = [e["scores"].get(n) for n in sizes]
        rhos = [_cell(s, key) for s in scores for key in ("spearman_rho", "spearman_rho_remainder")]
        cells = [e["name"], *rhos, *(_seconds(s) for s in scores), e["device"]]
        lines.append("| " + " | ".join(cells) + " |")
    note = ("Spearman rho against CIFAR-10 test accuracy over all nets and over those not trained on (± over seeds), "
            "and the cost of one run: the "
            "median wall-clock seconds of its fit (a seed ensemble: the sum of its members' fits; the class-mean rows: "
            "the fits they average) and the device it ran on.")  # fmt: skip
    return note + "\n\n" + "\n".join(lines)


TRANSFER_TITLES = {"cifar100_test_acc": "CIFAR-100", "imagenet16_test_acc": "ImageNet16-120"}


def transfer_markdown(entries: list[dict], test_title: str = "CIFAR-10") -> str:
    """Kendall tau-b of each model trained at the largest training-set size on CIFAR-10 labels, ranked against
    the accuracies the same nets reach on other datasets."""
    size = max(n for e in entries if not e["published"] for n in e["scores"])
    keys = [k for e in entries for k in e["scores"].get(size, {}) if k.startswith("kendall_tau_b_") and
            k.removeprefix("kendall_tau_b_") in TRANSFER_TITLES]  # fmt: skip
    labels = list(dict.fromkeys(k.removeprefix("kendall_tau_b_") for k in keys))
    header = ["predictor", test_title, *(TRANSFER_TITLES[label] for label in labels)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for e in entries:
        score = e["scores"].get(size)
        if e["published"] or score is None:
            continue
        cells = [_cell(score, "kendall_tau_b"), *(_cell(score, f"kendall_tau_b_{label}") for label in labels)]
        lines.append("| " + " | ".join([e["name"], *cells]) + " |")
    note = (f"Transfer: trained on CIFAR-10 labels with {size} training nets, the same predictions ranked against "
            "each dataset's test accuracy (Kendall tau-b over all nets).")  # fmt: skip
    return note + "\n\n" + "\n".join(lines)


# Display names where the report key is not enough; other proxies show under their key.
PROXY_LABELS = {
    "jacob_cov": "jacob_cov (NASWOT v1)", "naswot": "NASWOT (ReLU codes)",
    "params": "parameter count (same nets)", "flops_nb201": "FLOPs, NB201's count (same nets)",
    "flops_2mac": "FLOPs, 2 per multiply-accumulate (same nets)",
}  # fmt: skip


def proxies_markdown(report: dict) -> str:
    """Zero-cost proxies (no training) against the test label on the scored sample, with 95% intervals."""
    labels = list(TRANSFER_TITLES)
    header = ["proxy", "tau-b (95% interval)", "Spearman rho", *TRANSFER_TITLES.values(), "degenerate nets"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, s in report["proxies"].items():
        low, high = s["kendall_tau_b_ci95"]
        cells = [PROXY_LABELS.get(name, name), f"{s['kendall_tau_b']:.4f} ({low:.4f}-{high:.4f})",
                 f"{s['spearman_rho']:.4f}", *(f"{s[f'kendall_tau_b_{label}']:.4f}" for label in labels),
                 str(s["non_finite"])]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    note = (f"Zero-cost proxies: no training; {report['n_scored']} of the {report['n_nets']} NB201 nets (seeded "
            f"sample), one minibatch of {report['batch_size']} CIFAR-10 training images, fresh weights; Kendall "
            f"tau-b against CIFAR-10 test accuracy (CIFAR-100 and ImageNet16-120 columns: the same scores against "
            f"those test accuracies). {report['seconds_per_net_median']:.2f} s per net for all five proxies "
            f"(median, one CPU core each, {report['workers']} processes).")  # fmt: skip
    return note + "\n\n" + "\n".join(lines)
