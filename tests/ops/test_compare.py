import pytest

from tart.ops.compare import compare, flatten, markdown, overall, rows, stacked


def result(tau: float, ci: tuple[float, float], mae: float = 3.0, mae_ci=(2.9, 3.1), n: int = 100) -> dict:
    return {"model": "tart", "test_all": {"n": n, "kendall_tau_b": tau, "kendall_tau_b_ci95": list(ci),
                                          "mae": mae, "mae_ci95": list(mae_ci)}}  # fmt: skip


def by_metric(changes):
    return {c.metric: c for c in changes}


def test_flatten_attaches_intervals_to_their_metric():
    flat = flatten(result(0.7, (0.68, 0.72)))
    assert flat["test_all.kendall_tau_b"] == (0.7, (0.68, 0.72))
    assert flat["test_all.n"] == (100, None) and "test_all.kendall_tau_b_ci95" not in flat


@pytest.mark.parametrize(
    ("new_tau", "new_ci", "expected"),
    [
        (0.70, (0.68, 0.72), "identical"),
        (0.715, (0.695, 0.735), "noise"),  # inside the old interval
        (0.725, (0.695, 0.755), "noise"),  # outside the old interval, but the old value is inside the new one
        (0.76, (0.74, 0.78), "better"),
        (0.64, (0.62, 0.66), "worse"),
    ],
)
def test_verdict_uses_both_bootstrap_intervals(new_tau, new_ci, expected):
    changes = compare(result(0.70, (0.68, 0.72)), result(new_tau, new_ci))
    assert overall(changes, "test_all.kendall_tau_b") == expected


def test_lower_mae_is_better_and_counts_are_plain_changes():
    changes = by_metric(compare(result(0.7, (0.68, 0.72)), result(0.7, (0.68, 0.72), mae=2.0, mae_ci=(1.9, 2.1), n=90)))
    assert changes["test_all.mae"].verdict == "better"
    assert changes["test_all.n"].verdict == "changed" and changes["test_all.n"].delta == -10


def test_first_results_and_removed_metrics():
    first = by_metric(compare(None, result(0.7, (0.68, 0.72))))
    assert {c.verdict for c in first.values()} == {"new"} and first["test_all.kendall_tau_b"].old is None
    old = result(0.7, (0.68, 0.72))
    old["test_remainder"] = {"kendall_tau_b": 0.6}
    assert by_metric(compare(old, result(0.7, (0.68, 0.72))))["test_remainder.kendall_tau_b"].verdict == "removed"


def test_unknown_primary_metric_names_the_known_ones():
    with pytest.raises(KeyError, match="test_all.kendall_tau_b"):
        overall(compare(None, result(0.7, (0.68, 0.72))), "test_all.tau")


def test_markdown_states_verdict_and_intervals():
    text = markdown(compare(result(0.70, (0.68, 0.72)), result(0.76, (0.74, 0.78))), "HEAD", "run",
                    "test_all.kendall_tau_b")  # fmt: skip
    assert text.startswith("**Verdict: better beyond noise**")
    assert "| test_all.kendall_tau_b | 0.7000 [0.6800, 0.7200] | 0.7600 [0.7400, 0.7800] | +0.0600 |" in text


def test_a_change_hidden_by_rounding_is_not_called_a_change():
    old = {"transfer": {"kendall_tau_b_cifar100_test_acc": 0.79810, "spearman_rho_cifar100_test_acc": 0.94120}}
    new = {"transfer": {"kendall_tau_b_cifar100_test_acc": 0.79850, "spearman_rho_cifar100_test_acc": 0.94122}}
    changes = by_metric(compare(old, new))
    assert changes["transfer.kendall_tau_b_cifar100_test_acc"].verdict == "changed"
    tiny = changes["transfer.spearman_rho_cifar100_test_acc"]
    assert tiny.verdict == "below_shown"
    row = rows([tiny])[0]
    assert row[3] == "+2.0e-05" and "+0.0000" not in row  # the delta shows its size, never a zero change


def test_the_narrow_report_fits_80_columns_and_keeps_names_whole():
    old = {**result(0.7, (0.68, 0.72)), "transfer": {"kendall_tau_b_imagenet16_test_acc": 0.77}}
    new = {**result(0.76, (0.74, 0.78)), "transfer": {"kendall_tau_b_imagenet16_test_acc": 0.78}}
    text = stacked(compare(old, new), "HEAD", "workspace")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "transfer.kendall_tau_b_imagenet16_test_acc: changed" in text
    assert "  old 0.7000 [0.6800, 0.7200]  new 0.7600 [0.7400, 0.7800]  +0.0600" in text
