from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.common import params, recorded
from tart.training.tart_grid import tart_grid_from_files


@task(cache_policy=NO_CACHE)
def tart_grid_task(p):
    out = p.paths.reports / "tart_grid.json"
    return tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, p.tart_grid,
                                p.split.val_size, out, get_run_logger().info)  # fmt: skip


@flow(name="tart_grid")
def tart_grid_flow() -> None:
    p = params()
    with recorded("tart_grid", p):
        tart_grid_task(p)


if __name__ == "__main__":
    tart_grid_flow()
