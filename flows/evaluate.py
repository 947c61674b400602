from prefect import flow, get_run_logger, task
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
    with recorded("evaluate", p):
        metrics = evaluate_task(p)
    get_run_logger().info("Kendall tau-b over all nets: %.4f", metrics["test_all"]["kendall_tau_b"])


if __name__ == "__main__":
    evaluate_flow()
