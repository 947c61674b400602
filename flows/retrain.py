"""Scheduled retraining: `python -m flows.retrain` runs once; `python -m flows.retrain serve` serves the
deployment on the schedule in params.yaml (needs a real `prefect server start`, docs/operations.md)."""

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


def serve(p: Params) -> None:
    r = p.retrain
    if r.interval_s is not None:
        schedule = Interval(timedelta(seconds=r.interval_s), timezone=r.timezone)
    else:
        schedule = Cron(r.cron, timezone=r.timezone)
    # limit=1: the runner itself never overlaps two runs; the workspace lock guards against other processes.
    configured(p).serve(name=r.deployment, schedule=schedule, limit=1)


if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        serve(params())
    elif sys.argv[1:]:
        sys.exit("usage: python -m flows.retrain [serve]")
    else:
        configured(params())()
