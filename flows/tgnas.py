from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.training.tgnas import tgnas_from_files


@task(cache_policy=NO_CACHE)
def tgnas_task(p):
    return tgnas_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, p.tgnas, p.split.val_size,
                            p.paths.reports / "tgnas.json", get_run_logger().info)  # fmt: skip


@flow(name="tgnas")
def tgnas_flow() -> None:
    p = params()
    with recorded("tgnas", p):
        tgnas_task(p)


if __name__ == "__main__":
    tgnas_flow()
