from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.evaluation.evaluate import evaluate


@task(cache_policy=NO_CACHE)
def evaluate_task(p):
    e = p.evaluate
    return evaluate(
        p.paths.tokens, p.paths.labels, p.paths.split, p.paths.model, p.paths.predictions,
        p.paths.reports / "metrics.json", e.test_label, e.bootstrap, e.seed, e.round_digits,
    )  # fmt: skip


@flow(name="evaluate")
def evaluate_flow() -> None:
    p = params()
    what = f"predict every net and score against {p.evaluate.test_label} ({p.evaluate.bootstrap:,} bootstrap draws)"
    with recorded("evaluate", p, what) as run:
        metrics = evaluate_task(p)
        every = metrics["test_all"]
        low, high = every["kendall_tau_b_ci95"]
        run["result"] = (f"Kendall tau-b {every['kendall_tau_b']:.4f} [{low:.4f}, {high:.4f}] over all "
                         f"{every['n']:,} nets")  # fmt: skip


if __name__ == "__main__":
    evaluate_flow()
