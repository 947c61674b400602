"""Scheduled retraining: `python -m flows.retrain` runs once; `python -m flows.retrain serve` serves the
deployment on the schedule in params.yaml from this process; `python -m flows.retrain deploy POOL` registers it
with a work pool instead, whose workers run it (both need a real `prefect server start`, docs/operations.md and
docs/cluster.md)."""

import sys
from datetime import timedelta
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.schedules import Cron, Interval

from flows.common import params
from tart.core.params import Params
from tart.ops.retrain import retrain_once


@flow(name="tart-retrain")
def retrain_flow() -> dict:
    p = params()
    logger = get_run_logger()
    report = retrain_once(p, Path("."), log=logger.info)
    create_markdown_artifact(
        markdown=report.markdown, key=p.retrain.deployment, description=f"TART retraining: {report.summary}"
    )
    logger.info("verdict: %s", report.summary)
    return {"verdict": report.verdict, "summary": report.summary}


def configured(p: Params):
    return retrain_flow.with_options(retries=p.retrain.retries, retry_delay_seconds=p.retrain.retry_delay_s)


def schedule_of(p: Params):
    r = p.retrain
    if r.interval_s is not None:
        return Interval(timedelta(seconds=r.interval_s), timezone=r.timezone)
    return Cron(r.cron, timezone=r.timezone)


def serve(p: Params) -> None:
    # limit=1: the runner itself never overlaps two runs; the workspace lock guards against other processes.
    configured(p).serve(name=p.retrain.deployment, schedule=schedule_of(p), limit=1)


def deploy(p: Params, pool: str) -> None:
    """Register the deployment with work pool `pool`: its workers run the flow from this workspace's directory (a
    `process` pool on a machine that sees it), one run at a time. Flow retries apply to `serve` and one-off runs;
    a pool run that fails stays failed until the next scheduled one."""
    source = retrain_flow.from_source(source=str(Path.cwd()), entrypoint="flows/retrain.py:retrain_flow")
    source.deploy(name=p.retrain.deployment, work_pool_name=pool, schedule=schedule_of(p), concurrency_limit=1,
                  build=False, push=False, print_next_steps=False)  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve(params())
    elif len(sys.argv) == 3 and sys.argv[1] == "deploy":
        deploy(params(), sys.argv[2])
    elif sys.argv[1:]:
        sys.exit("usage: python -m flows.retrain [serve | deploy WORK_POOL]")
    else:
        configured(params())()
