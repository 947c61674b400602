from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.train_narformer import configs_from, narformer_from_files


@task(cache_policy=NO_CACHE)
def narformer_task(p):
    n = p.narformer
    fit, model = configs_from(n)
    return narformer_from_files(p.paths.labels, p.train.target, p.evaluate.test_label, n.train_sizes, n.seeds,
                                p.split.val_size, fit, model, p.paths.reports / "narformer.json",
                                get_run_logger().info, tuple(n.cell_inputs))  # fmt: skip


@flow(name="narformer")
def narformer_flow() -> None:
    p = params()
    with recorded("narformer", p):
        narformer_task(p)


if __name__ == "__main__":
    narformer_flow()
