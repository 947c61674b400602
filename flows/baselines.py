from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.baselines.baselines import baselines_from_files


@task(cache_policy=NO_CACHE)
def baselines_task(p):
    logger = get_run_logger()
    out = p.paths.reports / "baselines.json"
    return baselines_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, p.baselines, out, logger.info)


@flow(name="baselines")
def baselines_flow() -> None:
    p = params()
    with recorded("baselines", p):
        baselines_task(p)


if __name__ == "__main__":
    baselines_flow()
