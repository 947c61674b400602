from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.training.narformer import narformer_from_files


@task(cache_policy=NO_CACHE)
def narformer_task(p):
    return narformer_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, p.narformer, p.split.val_size,
                                p.paths.reports / "narformer.json", get_run_logger().info)  # fmt: skip


@flow(name="narformer")
def narformer_flow() -> None:
    p = params()
    with recorded("narformer", p):
        narformer_task(p)


if __name__ == "__main__":
    narformer_flow()
